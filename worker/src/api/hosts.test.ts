import { ApiErrorBody, HostDetail, HostEvents, HostList, HostSamples } from '@pulsewire/protocol';
import { beforeAll, describe, expect, it } from 'vitest';
import { ownerWithIngestKey, sample, TestAgent } from '../../test/agent.ts';
import { TestClient } from '../../test/client.ts';
import { isolatedEnv } from '../../test/support.ts';
import type { Env } from '../env.ts';

describe('hosts API', () => {
  let env: Env;
  let owner: TestClient;
  let agent: TestAgent;
  let ingestKey: string;
  beforeAll(async () => {
    env = await isolatedEnv();
    const setup = await ownerWithIngestKey(env);
    owner = setup.owner;
    ingestKey = setup.ingestKey;
    agent = await TestAgent.enroll(env, setup.ingestKey, crypto.randomUUID(), 'db-1');
  });

  it('lists an enrolled host that has not pushed yet as offline, without figures', async () => {
    const { hosts } = HostList.parse(await (await owner.get('/api/v1/hosts')).json());
    expect(hosts).toHaveLength(1);
    expect(hosts[0]).toMatchObject({
      id: agent.hostId,
      name: 'db-1',
      status: 'offline',
      glance: null,
      os: 'Debian GNU/Linux 12',
    });
  });

  it('shows the host online with the latest figures once it pushes', async () => {
    const now = Date.now();
    const latest = {
      ...sample(now - 1000, 42),
      disks: [
        { mount: '/', fs: '/dev/vda1', type: 'ext4', size: 100e9, used: 30e9, usedPct: 30 },
        { mount: '/data', fs: '/dev/vdb1', type: 'xfs', size: 500e9, used: 400e9, usedPct: 80 },
      ],
    };
    await agent.push(agent.batch([sample(now - 11_000, 10), latest]));
    const { hosts } = HostList.parse(await (await owner.get('/api/v1/hosts')).json());
    expect(hosts[0]?.status).toBe('online');
    expect(hosts[0]?.glance).toMatchObject({ ts: now - 1000, cpuPct: 42, diskPct: 80 });
    expect(hosts[0]?.glance?.memPct).toBeCloseTo(25, 5);

    const detail = HostDetail.parse(await (await owner.get(`/api/v1/hosts/${agent.hostId}`)).json());
    expect(detail.latest?.ts).toBe(now - 1000);
    expect(detail.latest?.disks?.map((d) => d.mount)).toEqual(['/', '/data']);
    expect(detail.facts.cpuModel).toBe('AMD EPYC 7763');
    expect(detail.labels).toEqual({ env: 'test' });
  });

  it('shows the newest value of each section, though slow sections (filesystems) skip most samples', async () => {
    const slow = await TestAgent.enroll(env, ingestKey, crypto.randomUUID(), 'files-1');
    const now = Date.now();
    const withDisks = {
      ...sample(now - 20_000, 5),
      disks: [{ mount: '/', fs: '/dev/vda1', type: 'ext4', size: 100e9, used: 60e9, usedPct: 60 }],
    };
    // Newer samples without the disks section: the agent sends filesystems once a minute.
    await slow.push(slow.batch([withDisks, sample(now - 10_000, 7), sample(now - 500, 9)]));
    const detail = HostDetail.parse(await (await owner.get(`/api/v1/hosts/${slow.hostId}`)).json());
    expect(detail.latest?.ts).toBe(now - 500);
    expect(detail.latest?.cpu?.total).toBe(9);
    expect(detail.latest?.disks?.map((d) => d.usedPct)).toEqual([60]);
    const { hosts } = HostList.parse(await (await owner.get('/api/v1/hosts')).json());
    expect(hosts.find((h) => h.id === slow.hostId)?.glance).toMatchObject({ ts: now - 500, cpuPct: 9, diskPct: 60 });
  });

  it('answers 404 for an unknown or malformed host id', async () => {
    expect((await owner.get(`/api/v1/hosts/${crypto.randomUUID()}`)).status).toBe(404);
    expect((await owner.get('/api/v1/hosts/not-a-uuid')).status).toBe(404);
  });
});

describe('host history: series and events', () => {
  let env: Env;
  let owner: TestClient;
  let agent: TestAgent;
  /** Another host of the same tenant, whose rows must never show up in `agent`'s answers. */
  let neighbour: TestAgent;
  let stranger: TestClient;
  const t0 = Date.UTC(2026, 10, 20, 12, 0, 0);
  const iso = (ms: number) => new Date(ms).toISOString();
  const series = async (hostId: string, query: string, client = owner) => {
    const res = await client.get(`/api/v1/hosts/${hostId}/samples${query}`);
    expect(res.status, await res.clone().text()).toBe(200);
    return HostSamples.parse(await res.json());
  };
  async function pushAll(a: TestAgent, timestamps: number[]) {
    for (let i = 0; i < timestamps.length; i += 300) {
      const chunk = timestamps.slice(i, i + 300).map((ts) => sample(ts, (ts / 1000) % 100));
      const res = await a.push(a.batch(chunk));
      expect(res.status).toBe(200);
    }
  }

  beforeAll(async () => {
    env = await isolatedEnv();
    const setup = await ownerWithIngestKey(env);
    owner = setup.owner;
    agent = await TestAgent.enroll(env, setup.ingestKey, crypto.randomUUID(), 'app-1');
    neighbour = await TestAgent.enroll(env, setup.ingestKey, crypto.randomUUID(), 'app-2');
    // app-1: one sample a second over the first minute (pushed out of order), and 2,500 samples two seconds
    // apart from t0 + 1 h. app-2: samples at the same instants as app-1's first minute.
    const minute = Array.from({ length: 60 }, (_, i) => t0 + i * 1000);
    await pushAll(agent, [...minute.slice(30), ...minute.slice(0, 30)]);
    await pushAll(
      agent,
      Array.from({ length: 2500 }, (_, i) => t0 + 3_600_000 + i * 2000),
    );
    await pushAll(neighbour, minute);
    await agent.push(
      agent.batch([], {
        events: [
          { ts: t0 + 1000, kind: 'job.started', id: 'job-1', name: 'nightly backup' },
          { ts: t0 + 5000, kind: 'job.progress', id: 'job-1', progress: 0.5, message: 'half way' },
          { ts: t0 + 9000, kind: 'job.completed', id: 'job-1', labels: { queue: 'io' } },
          { ts: t0 + 20_000, kind: 'job.failed', id: 'job-2', message: 'disk full' },
        ],
      }),
    );
    await neighbour.push(neighbour.batch([], { events: [{ ts: t0 + 2000, kind: 'job.started', id: 'other' }] }));
    stranger = (await ownerWithIngestKey(env, 'stranger')).owner;
  });

  it('answers the samples inside the range, both ends included, oldest first, as live samples', async () => {
    const body = await series(agent.hostId, `?from=${iso(t0 + 10_000)}&to=${iso(t0 + 19_000)}`);
    expect(body.hostId).toBe(agent.hostId);
    expect(body.from).toBe(iso(t0 + 10_000));
    expect(body.to).toBe(iso(t0 + 19_000));
    expect(body.points.map((p) => p.ts)).toEqual(Array.from({ length: 10 }, (_, i) => t0 + 10_000 + i * 1000));
    const first = body.points[0];
    expect(first?.cpu?.total).toBeCloseTo(((t0 + 10_000) / 1000) % 100, 5);
    expect(first?.mem).toEqual({ total: 24e9, used: 6e9, cached: 2e9, swapTotal: 0, swapUsed: 0 });
    // Only LiveSample's fields: the stored `memory` section is converted, not passed through.
    expect(first).not.toHaveProperty('memory');
  });

  it('accepts ISO timestamps with an offset', async () => {
    // 13:00:05+01:00 is 12:00:05Z.
    const body = await series(agent.hostId, '?from=2026-11-20T13:00:05%2B01:00&to=2026-11-20T12:00:07Z');
    expect(body.points.map((p) => p.ts)).toEqual([t0 + 5000, t0 + 6000, t0 + 7000]);
  });

  it("never mixes in another host's samples", async () => {
    const mine = await series(agent.hostId, `?from=${iso(t0)}&to=${iso(t0 + 59_000)}`);
    const theirs = await series(neighbour.hostId, `?from=${iso(t0)}&to=${iso(t0 + 59_000)}`);
    expect(mine.points).toHaveLength(60);
    expect(theirs.points).toHaveLength(60);
    expect(new Set(theirs.points.map((p) => p.ts)).size).toBe(60);
  });

  it('answers an empty series for a range without samples, and the last 5 minutes by default', async () => {
    const empty = await series(agent.hostId, `?from=${iso(t0 - 60_000)}&to=${iso(t0 - 1)}`);
    expect(empty.points).toEqual([]);
    const before = Date.now();
    const recent = await series(agent.hostId, '');
    const to = Date.parse(recent.to);
    expect(to).toBeGreaterThanOrEqual(before - 1000);
    expect(to - Date.parse(recent.from)).toBe(5 * 60_000);
    expect(recent.points).toEqual([]);
    // Only `to`: the 5 minutes before it.
    const toOnly = await series(agent.hostId, `?to=${iso(t0 + 30_000)}`);
    expect(toOnly.from).toBe(iso(t0 + 30_000 - 5 * 60_000));
    expect(toOnly.points).toHaveLength(31);
  });

  it('thins a range holding more than 1000 samples evenly to exactly 1000, oldest first', async () => {
    const start = t0 + 3_600_000;
    const body = await series(agent.hostId, `?from=${iso(start)}&to=${iso(start + 2499 * 2000)}`);
    const ts = body.points.map((p) => p.ts);
    expect(ts).toHaveLength(1000);
    expect(ts[0]).toBe(start);
    expect([...ts].sort((a, b) => a - b)).toEqual(ts);
    expect(new Set(ts).size).toBe(1000);
    // 2500 rows into 1000 buckets of 2.5: consecutive kept rows are 2 or 3 rows (4 s or 6 s) apart.
    const gaps = new Set(ts.slice(1).map((t, i) => t - (ts[i] ?? 0)));
    expect([...gaps].sort()).toEqual([4000, 6000]);
    // Every kept point is a stored sample (on the 2 s grid), and the last bucket reaches the end of the range.
    expect(ts.every((t) => (t - start) % 2000 === 0)).toBe(true);
    expect((ts.at(-1) ?? 0) - start).toBeGreaterThanOrEqual(2496 * 2000);
    // Exactly 1000 rows are not thinned.
    const exact = await series(agent.hostId, `?from=${iso(start)}&to=${iso(start + 999 * 2000)}`);
    expect(exact.points.map((p) => p.ts)).toEqual(Array.from({ length: 1000 }, (_, i) => start + i * 2000));
  });

  it('refuses bad ranges with 422 naming the field', async () => {
    const cases: [string, string][] = [
      [`?from=${iso(t0 + 1000)}&to=${iso(t0)}`, 'query.from'],
      [`?from=${iso(t0)}&to=${iso(t0)}`, 'query.from'],
      [`?from=${iso(t0)}&to=${iso(t0 + 24 * 3_600_000 + 1)}`, 'query.from'],
      ['?from=yesterday', 'query.from'],
      ['?to=1700000000000', 'query.to'],
    ];
    for (const [query, path] of cases) {
      const res = await owner.get(`/api/v1/hosts/${agent.hostId}/samples${query}`);
      expect(res.status, query).toBe(422);
      const body = ApiErrorBody.parse(await res.json());
      expect(body.error.code, query).toBe('validation_failed');
      expect(body.error.path, query).toBe(path);
    }
    // Exactly 24 hours is allowed.
    const day = await series(agent.hostId, `?from=${iso(t0)}&to=${iso(t0 + 24 * 3_600_000)}`);
    expect(day.points).toHaveLength(1000);
  });

  it("answers 404 for another tenant's host, an unknown id and a malformed id", async () => {
    const range = `?from=${iso(t0)}&to=${iso(t0 + 59_000)}`;
    for (const kind of ['samples', 'events']) {
      for (const path of [
        `/api/v1/hosts/${agent.hostId}/${kind}${range}`,
        `/api/v1/hosts/${crypto.randomUUID()}/${kind}${range}`,
        `/api/v1/hosts/not-a-uuid/${kind}${range}`,
      ]) {
        const res = await (path.includes(agent.hostId) ? stranger : owner).get(path);
        expect(res.status, path).toBe(404);
        expect(await res.text()).not.toContain('backup');
      }
    }
    // Without a session: 401.
    expect((await new TestClient(env).get(`/api/v1/hosts/${agent.hostId}/samples${range}`)).status).toBe(401);
  });

  it('lists events newest first, filtered by range and kind, at most limit', async () => {
    const list = async (query: string) => {
      const res = await owner.get(`/api/v1/hosts/${agent.hostId}/events${query}`);
      expect(res.status, await res.clone().text()).toBe(200);
      return HostEvents.parse(await res.json());
    };
    const all = await list(`?from=${iso(t0)}&to=${iso(t0 + 60_000)}`);
    expect(all.hostId).toBe(agent.hostId);
    expect(all.events.map((e) => `${e.kind}:${e.id}`)).toEqual([
      'job.failed:job-2',
      'job.completed:job-1',
      'job.progress:job-1',
      'job.started:job-1',
    ]);
    expect(all.events[1]).toEqual({ ts: t0 + 9000, kind: 'job.completed', id: 'job-1', labels: { queue: 'io' } });
    expect(all.events[2]).toEqual({
      ts: t0 + 5000,
      kind: 'job.progress',
      id: 'job-1',
      progress: 0.5,
      message: 'half way',
    });
    expect((await list(`?from=${iso(t0 + 5000)}&to=${iso(t0 + 9000)}`)).events.map((e) => e.ts)).toEqual([
      t0 + 9000,
      t0 + 5000,
    ]);
    const failed = await list(`?from=${iso(t0)}&to=${iso(t0 + 60_000)}&kind=job.failed`);
    expect(failed.events.map((e) => e.message)).toEqual(['disk full']);
    const two = await list(`?from=${iso(t0)}&to=${iso(t0 + 60_000)}&limit=2`);
    expect(two.events.map((e) => e.ts)).toEqual([t0 + 20_000, t0 + 9000]);
    // The default range is the last 24 hours: these events are older.
    expect((await list('')).events).toEqual([]);
  });

  it('refuses bad event queries with 422 naming the field', async () => {
    for (const [query, path] of [
      ['?limit=0', 'query.limit'],
      ['?limit=1001', 'query.limit'],
      ['?limit=ten', 'query.limit'],
      ['?kind=bad%20kind', 'query.kind'],
      [`?from=${iso(t0 + 1)}&to=${iso(t0)}`, 'query.from'],
    ] as const) {
      const res = await owner.get(`/api/v1/hosts/${agent.hostId}/events${query}`);
      expect(res.status, query).toBe(422);
      expect(ApiErrorBody.parse(await res.json()).error.path, query).toBe(path);
    }
  });

  it('lets a viewer-level read key read both', async () => {
    const created = await owner.post('/api/v1/keys', { name: 'grafana', scope: 'read' });
    const { secret } = (await created.json()) as { secret: string };
    const res = await new TestClient(env).request(
      'GET',
      `/api/v1/hosts/${agent.hostId}/samples?from=${iso(t0)}&to=${iso(t0 + 2000)}`,
      undefined,
      { Authorization: `Bearer ${secret}` },
    );
    expect(res.status).toBe(200);
    expect(HostSamples.parse(await res.json()).points).toHaveLength(3);
  });
});
