import net from 'node:net';

export class PortInUseError extends Error {
  override name = 'PortInUseError';
  readonly port: number;
  readonly what: string;
  constructor(port: number, what: string) {
    super(
      `Port ${port} (${what}) is already in use on 127.0.0.1. Stop whatever holds it ` +
        `(\`lsof -i :${port}\` shows it) or choose another port.`,
    );
    this.port = port;
    this.what = what;
  }
}

/** Resolves with a port the OS just handed out on 127.0.0.1 and released. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        if (address && typeof address === 'object') resolve(address.port);
        else reject(new Error('could not determine a free port'));
      });
    });
  });
}

/** Fails with a readable message, instead of a stack trace later, when `port` is taken. */
export function assertPortFree(port: number, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', (err: NodeJS.ErrnoException) => {
      reject(err.code === 'EADDRINUSE' || err.code === 'EACCES' ? new PortInUseError(port, what) : err);
    });
    server.listen(port, '127.0.0.1', () => server.close(() => resolve()));
  });
}
