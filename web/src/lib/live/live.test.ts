import { describe, expect, it } from 'vitest';
import { fakeSockets } from './fake-socket.ts';
import { LiveLifecycle, liveTenant } from './live.svelte.ts';
import { StreamClient } from './stream-client.svelte.ts';

describe('live socket lifecycle', () => {
  it('wants a socket only for a signed-in session with an organisation', () => {
    const org = { id: 'org-a' } as never;
    expect(liveTenant({ status: 'signed-in', organization: org })).toBe('org-a');
    expect(liveTenant({ status: 'signed-out', organization: null })).toBeNull();
    expect(liveTenant({ status: 'loading', organization: null })).toBeNull();
    expect(liveTenant({ status: 'no-organization', organization: null })).toBeNull();
  });

  it('connects on sign-in, keeps the socket for the same tenant, re-opens on a switch, closes on sign-out', () => {
    const f = fakeSockets();
    const client = new StreamClient({ url: 'ws://x', createSocket: f.create });
    const lifecycle = new LiveLifecycle(client);
    lifecycle.set(null);
    expect(f.sockets).toHaveLength(0);

    lifecycle.set('org-a');
    expect(f.sockets).toHaveLength(1);
    f.last().open();
    client.subscribe({ hosts: '*', streams: ['host_status'] });
    lifecycle.set('org-a');
    expect(f.sockets).toHaveLength(1);

    lifecycle.set('org-b');
    expect(f.sockets[0]?.closedByClient?.code).toBe(1000);
    expect(f.sockets).toHaveLength(2);
    // The new tenant's socket gets the subscriptions still wanted.
    f.last().open();
    expect(f.last().frames()).toEqual([{ type: 'subscribe', id: 's2', hosts: '*', streams: ['host_status'] }]);

    lifecycle.set(null);
    expect(f.sockets[1]?.closedByClient?.code).toBe(1000);
    expect(client.state).toBe('closed');
    expect(f.sockets).toHaveLength(2);
  });
});
