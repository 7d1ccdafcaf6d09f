import {
  ApiErrorBody,
  generateHostKeyPair,
  HostDetail,
  HostKeyReplacement,
  HostList,
  HostSummary,
} from '@pulsewire/protocol';
import { and, asc, eq } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { enrollRequest, FACTS, ownerWithIngestKey, sample, TestAgent } from '../../test/agent.ts';
import type { TestClient } from '../../test/client.ts';
import { isolatedEnv, withDatabase } from '../../test/support.ts';
import { auditLog, hostSamples, hosts } from '../db/schema.ts';
import type { Env } from '../env.ts';
import { HOST_CACHE_TTL_MS } from '../ingest/host-cache.ts';

const errorOf = async (res: Response) => ApiErrorBody.parse(await res.json()).error;

async function auditOf(env: Env, hostId: string) {
  return withDatabase(env, (db) =>
    db
      .select({
        action: auditLog.action,
        actorKind: auditLog.actorKind,
        actorLabel: auditLog.actorLabel,
        details: auditLog.details,
      })
      .from(auditLog)
      .where(and(eq(auditLog.targetKind, 'host'), eq(auditLog.targetId, hostId)))
      .orderBy(asc(auditLog.at)),
  );
}

async function listedIds(owner: TestClient): Promise<string[]> {
  return HostList.parse(await (await owner.get('/api/v1/hosts')).json()).hosts.map((h) => h.id);
}

describe('revoking, deleting and replacing the key of a host', () => {
  let env: Env;
  let owner: TestClient;
  let ownerEmail: string;
  let ingestKey: string;
  beforeAll(async () => {
    env = await isolatedEnv();
    const setup = await ownerWithIngestKey(env, 'hostadmin');
    owner = setup.owner;
    ingestKey = setup.ingestKey;
    const me = (await (await owner.get('/api/v1/me')).json()) as { user: { email: string } };
    ownerEmail = me.user.email;
  });

  it('a revocation written by another isolate (here: straight to the database) is refused once the host cache expires', async () => {
    const agent = await TestAgent.enroll(env, ingestKey, 'rev-elsewhere', 'rev-2');
    expect((await agent.push(agent.batch([sample(Date.now())]))).status).toBe(200); // this isolate now caches the host
    await withDatabase(env, (db) => db.update(hosts).set({ revokedAt: new Date() }).where(eq(hosts.id, agent.hostId)));
    // No API call, so nothing told this isolate: within seconds (HOST_CACHE_TTL_MS) its cached row expires.
    await new Promise((resolve) => setTimeout(resolve, HOST_CACHE_TTL_MS + 250));
    const pushed = await agent.push(agent.batch([sample(Date.now())]));
    expect(pushed.status).toBe(403);
    expect((await errorOf(pushed)).code).toBe('host_revoked');
  });

  it('a key replaced by another isolate signs at once: a signature that fails against the cached key is checked afresh', async () => {
    const agent = await TestAgent.enroll(env, ingestKey, 'key-elsewhere', 'key-2');
    expect((await agent.push(agent.batch([sample(Date.now())]))).status).toBe(200); // cached with the old key
    const fresh = await generateHostKeyPair();
    await withDatabase(env, (db) =>
      db.update(hosts).set({ publicKey: fresh.publicKey }).where(eq(hosts.id, agent.hostId)),
    );
    const replaced = new TestAgent(env, agent.hostId, agent.tenantId, fresh.privateKey);
    replaced.seq = agent.seq;
    expect((await replaced.push(replaced.batch([sample(Date.now() + 1)]))).status).toBe(200);
    // And the old key, cached a moment ago, no longer signs for the host.
    expect((await agent.push(agent.batch([sample(Date.now() + 2)]))).status).toBe(401);
  });

  it('revoked: the agent learns it on its next push, its key cannot enroll again, and it stays listed as revoked', async () => {
    const keys = await generateHostKeyPair();
    const agent = await TestAgent.enroll(env, ingestKey, 'rev-machine', 'rev-1', keys);
    expect((await agent.push(agent.batch([sample(Date.now())]))).status).toBe(200);

    const res = await owner.post(`/api/v1/hosts/${agent.hostId}/revoke`);
    expect(res.status).toBe(200);
    const revoked = HostSummary.parse(await res.json());
    expect(revoked.revokedAt).not.toBeNull();
    const pushed = await agent.push(agent.batch([sample(Date.now())]));
    expect(pushed.status).toBe(403);
    expect((await errorOf(pushed)).code).toBe('host_revoked');
    const again = await enrollRequest(env, ingestKey, {
      publicKey: keys.publicKey,
      machineId: 'rev-machine',
      hostname: 'rev-1',
      facts: FACTS,
      agentVersion: '0.1.0',
    });
    expect((await errorOf(again)).code).toBe('host_revoked');

    // Revoking twice keeps the first time and writes one entry.
    const twice = HostSummary.parse(await (await owner.post(`/api/v1/hosts/${agent.hostId}/revoke`)).json());
    expect(twice.revokedAt).toBe(revoked.revokedAt);
    const listed = HostList.parse(await (await owner.get('/api/v1/hosts')).json()).hosts;
    expect(listed.find((h) => h.id === agent.hostId)?.revokedAt).toBe(revoked.revokedAt);
    expect(await auditOf(env, agent.hostId)).toEqual([
      {
        action: 'host.revoked',
        actorKind: 'user',
        actorLabel: ownerEmail,
        details: { name: 'rev-1', machineId: 'rev-machine' },
      },
    ]);

    // No key replacement revives it.
    const replace = await owner.post(`/api/v1/hosts/${agent.hostId}/replace-key`, {});
    expect(replace.status).toBe(409);
    expect((await errorOf(replace)).code).toBe('host_revoked');
  });

  it('an allowed key replacement lets the machine enroll a new key into the same host, once, audited', async () => {
    const old = await TestAgent.enroll(env, ingestKey, 'moved-machine', 'moved-1');
    const ts = Date.now() - 5_000;
    expect((await old.push(old.batch([sample(ts)]))).status).toBe(200);

    const res = await owner.post(`/api/v1/hosts/${old.hostId}/replace-key`, {});
    expect(res.status).toBe(200);
    const allowed = HostKeyReplacement.parse(await res.json());
    expect(allowed).toMatchObject({ hostId: old.hostId, replaced: false });
    expect(Date.parse(allowed.keyReplaceUntil ?? '')).toBeGreaterThan(Date.now() + 23 * 3600_000);
    const detail = HostDetail.parse(await (await owner.get(`/api/v1/hosts/${old.hostId}`)).json());
    expect(detail.keyReplaceUntil).toBe(allowed.keyReplaceUntil);
    // Until the machine enrolls again, the old key still signs.
    expect((await old.push(old.batch([sample(ts + 1000)]))).status).toBe(200);

    // Another machine id cannot take it.
    const stranger = await TestAgent.enroll(env, ingestKey, 'other-machine', 'other-1');
    expect(stranger.hostId).not.toBe(old.hostId);

    const reinstalled = await TestAgent.enroll(env, ingestKey, 'moved-machine', 'moved-1');
    expect(reinstalled.hostId).toBe(old.hostId);
    expect((await errorOf(await old.push(old.batch([sample(Date.now())])))).code).toBe('bad_signature');
    reinstalled.seq = old.seq;
    expect((await reinstalled.push(reinstalled.batch([sample(Date.now())]))).status).toBe(200);
    // The history stayed with the host.
    const rows = await withDatabase(env, (db) =>
      db.select({ ts: hostSamples.ts }).from(hostSamples).where(eq(hostSamples.hostId, old.hostId)),
    );
    expect(rows.map((r) => r.ts.getTime())).toContain(ts);

    // The window is used up: a third key from that machine is a new host.
    const third = await TestAgent.enroll(env, ingestKey, 'moved-machine', 'moved-1');
    expect(third.hostId).not.toBe(old.hostId);

    const audit = await auditOf(env, old.hostId);
    expect(audit.map((a) => [a.action, a.actorKind])).toEqual([
      ['host.key_replacement_allowed', 'user'],
      ['host.key_replaced', 'api_key'],
    ]);
    expect(audit[1]?.details).toMatchObject({ via: 'enrollment', machineId: 'moved-machine' });
  });

  it('a key given with the replacement signs for the host at once; another host’s key is refused', async () => {
    const host = await TestAgent.enroll(env, ingestKey, 'given-machine', 'given-1');
    const neighbour = await TestAgent.enroll(env, ingestKey, 'given-neighbour', 'given-2');
    const keys = await generateHostKeyPair();
    const res = await owner.post(`/api/v1/hosts/${host.hostId}/replace-key`, { publicKey: keys.publicKey });
    expect(HostKeyReplacement.parse(await res.json())).toEqual({
      hostId: host.hostId,
      replaced: true,
      keyReplaceUntil: null,
    });
    const moved = new TestAgent(env, host.hostId, host.tenantId, keys.privateKey);
    expect((await moved.push(moved.batch([sample(Date.now())]))).status).toBe(200);
    expect((await errorOf(await host.push(host.batch([sample(Date.now())])))).code).toBe('bad_signature');
    // The machine enrolling with that key gets the same host back.
    expect((await TestAgent.enroll(env, ingestKey, 'given-machine', 'given-1', keys)).hostId).toBe(host.hostId);

    const [neighbourKey] = await withDatabase(env, (db) =>
      db.select({ publicKey: hosts.publicKey }).from(hosts).where(eq(hosts.id, neighbour.hostId)),
    );
    const taken = await owner.post(`/api/v1/hosts/${host.hostId}/replace-key`, {
      publicKey: neighbourKey?.publicKey,
    });
    expect(taken.status).toBe(409);
    expect((await errorOf(taken)).code).toBe('public_key_in_use');
    const bad = await owner.post(`/api/v1/hosts/${host.hostId}/replace-key`, { publicKey: 'short' });
    expect(bad.status).toBe(422);
    expect((await errorOf(bad)).path).toBe('json.publicKey');
    expect((await auditOf(env, host.hostId)).map((a) => a.action)).toEqual(['host.key_replaced']);
  });

  it('deleted: gone from every read at once, its agent refused, audited; its rows wait for the purge', async () => {
    const doomed = await TestAgent.enroll(env, ingestKey, 'doomed-machine', 'doomed-1');
    expect((await doomed.push(doomed.batch([sample(Date.now() - 1000)]))).status).toBe(200);
    expect(await listedIds(owner)).toContain(doomed.hostId);

    const res = await owner.delete(`/api/v1/hosts/${doomed.hostId}`);
    expect(res.status).toBe(200);
    expect(await listedIds(owner)).not.toContain(doomed.hostId);
    for (const path of ['', '/samples', '/series?series=cpu.total', '/events']) {
      expect((await owner.get(`/api/v1/hosts/${doomed.hostId}${path}`)).status, path).toBe(404);
    }
    const sparklines = (await (await owner.get(`/api/v1/hosts/sparklines?ids=${doomed.hostId}`)).json()) as {
      hosts: unknown[];
    };
    expect(sparklines.hosts).toEqual([]);
    expect((await errorOf(await doomed.push(doomed.batch([sample(Date.now())])))).code).toBe('host_revoked');
    expect((await owner.delete(`/api/v1/hosts/${doomed.hostId}`)).status).toBe(404);
    expect((await owner.post(`/api/v1/hosts/${doomed.hostId}/revoke`)).status).toBe(404);
    expect(await auditOf(env, doomed.hostId)).toEqual([
      {
        action: 'host.deleted',
        actorKind: 'user',
        actorLabel: ownerEmail,
        details: { name: 'doomed-1', machineId: 'doomed-machine', wasRevoked: false },
      },
    ]);
    const left = await withDatabase(env, (db) =>
      db.select({ ts: hostSamples.ts }).from(hostSamples).where(eq(hostSamples.hostId, doomed.hostId)),
    );
    expect(left).toHaveLength(1);
  });
});
