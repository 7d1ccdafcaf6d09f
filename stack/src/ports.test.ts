import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { assertPortFree, freePort, PortInUseError } from './ports.ts';

describe('ports', () => {
  it('reports a taken port with a readable PortInUseError', async () => {
    const server = net.createServer();
    const port = await new Promise<number>((resolve) =>
      server.listen(0, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port)),
    );
    try {
      const error = await assertPortFree(port, 'Pulsewire dev server').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(PortInUseError);
      expect((error as PortInUseError).message).toContain(`Port ${port} (Pulsewire dev server) is already in use`);
    } finally {
      server.close();
    }
  });

  it('accepts a free port', async () => {
    const port = await freePort();
    await expect(assertPortFree(port, 'x')).resolves.toBeUndefined();
  });
});
