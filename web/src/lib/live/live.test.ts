import type { MeResponse } from '@pulsewire/protocol';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { fakeSockets } from './fake-socket.ts';
import { LiveLifecycle, liveTenant, reconnectIfStillSignedIn } from './live.svelte.ts';
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

describe('after the server closes the socket with 4001', () => {
  afterEach(() => vi.unstubAllGlobals());
  const org = { id: '7f0c1a52-3b1e-4c47-9d2e-0a0b0c0d0e0f', name: 'Acme', slug: 'acme-x', role: 'owner' } as const;
  const me: MeResponse = {
    user: { id: '1b2c3d4e-5f60-4a7b-8c9d-0e1f2a3b4c5d', email: 'ada@example.com', name: 'Ada', emailVerified: true },
    organization: org,
    organizations: [org],
  };
  const answer = (status: number, body: unknown) => vi.stubGlobal('fetch', async () => Response.json(body, { status }));

  it('reconnects when this session is still signed in (another of the user’s sessions signed out)', async () => {
    answer(200, me);
    const connect = vi.fn();
    await reconnectIfStillSignedIn({ connect });
    expect(connect).toHaveBeenCalledOnce();
  });

  it('stays closed when this session is gone', async () => {
    answer(401, { error: { code: 'unauthorized', message: 'Authentication required' } });
    const connect = vi.fn();
    await reconnectIfStillSignedIn({ connect });
    expect(connect).not.toHaveBeenCalled();
  });
});
