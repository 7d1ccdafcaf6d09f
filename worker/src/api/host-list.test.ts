import { ApiErrorBody, HostList, HostSparklines, MAX_SPARKLINE_POINTS } from '@pulsewire/protocol';
import { type SQL, sql } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { ownerWithIngestKey, sample, TestAgent } from '../../test/agent.ts';
import type { TestClient } from '../../test/client.ts';
import { isolatedEnv, withDatabase } from '../../test/support.ts';
import type { Database } from '../db/client.ts';
import type { Env } from '../env.ts';
import { GLANCE_SECTIONS, latestSectionsOfHostsQuery } from '../history/latest.ts';
import { sparklinesQuery } from '../history/sparklines.ts';
import { hostPageSelect } from '../hosts/host-page.ts';

const errorOf = async (res: Response) => ApiErrorBody.parse(await res.json()).error;

/**
 * 50 hosts `node-01`…`node-50` plus two more named `node-25` (names are not unique), each with 2 hours of
 * samples every 10 s up to now (CPU, memory, load, network; filesystems once a minute), in SQL.
 */
async function seed(db: Database, tenantId: string): Promise<void> {
  await db.execute(sql`
    INSERT INTO hosts (tenant_id, name, machine_id, public_key, last_seen_at)
    SELECT ${tenantId}, name, 'seed-' || n, rpad(md5(${tenantId} || n), 43, 'A'), date_trunc('second', now())
    FROM (
      SELECT 'node-' || lpad(i::text, 2, '0') AS name, i::text AS n FROM generate_series(1, 50) i
      UNION ALL SELECT 'node-25', 'dup-' || j FROM generate_series(1, 2) j
    ) named`);
  await db.execute(sql`
    INSERT INTO host_samples (tenant_id, host_id, ts, sample)
    SELECT h.tenant_id, h.id, t,
      jsonb_build_object(
        'cpu', jsonb_build_object('total', (extract(epoch from t)::bigint / 10) % 100, 'user', 1, 'system', 1,
                                  'iowait', 0, 'steal', 0, 'perCore', jsonb_build_array(1, 2)),
        'memory', jsonb_build_object('total', 1000, 'used', 250, 'available', 750, 'cached', 0,
                                     'swapTotal', 0, 'swapUsed', 0),
        'load', jsonb_build_object('1', 0.5, '5', 0.4, '15', 0.3),
        'net', jsonb_build_array(
          jsonb_build_object('iface', 'eth0', 'rxBytesPerSec', 100, 'txBytesPerSec', 50),
          jsonb_build_object('iface', 'eth1', 'rxBytesPerSec', 7, 'txBytesPerSec', 3))
      ) || CASE WHEN (extract(epoch from t)::bigint / 10) % 6 = 0 THEN jsonb_build_object('disks', jsonb_build_array(
             jsonb_build_object('mount', '/', 'fs', '/dev/vda1', 'type', 'ext4', 'size', 100, 'used', 40,
                                'usedPct', 40)))
           ELSE '{}'::jsonb END
    FROM hosts h
    CROSS JOIN generate_series(date_trunc('second', now()) - interval '2 hours', date_trunc('second', now()),
                               interval '10 seconds') t
    WHERE h.tenant_id = ${tenantId} AND h.machine_id LIKE 'seed-%'`);
  await db.execute(sql`ANALYZE hosts`);
  await db.execute(sql`ANALYZE host_samples`);
}

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  'Index Cond'?: string;
  Plans?: PlanNode[];
}

/** Scans of `relation` or of its partitions (`host_samples_default`, `host_samples_p2026112919`). */
function scansOf(node: PlanNode, relation: string): PlanNode[] {
  const name = node['Relation Name'];
  const own = name === relation || name?.startsWith(`${relation}_`) ? [node] : [];
  return [...own, ...(node.Plans ?? []).flatMap((child) => scansOf(child, relation))];
}

async function planOf(db: Database, query: SQL | { sql: string; params: unknown[] }): Promise<PlanNode> {
  const result =
    'params' in query
      ? await db.execute(sql.raw(`EXPLAIN (FORMAT JSON) ${inline(query.sql, query.params)}`))
      : await db.execute(sql`EXPLAIN (FORMAT JSON) ${query}`);
  const cell = Object.values(result.rows[0] ?? {})[0];
  const plan = (typeof cell === 'string' ? JSON.parse(cell) : cell) as { Plan: PlanNode }[];
  return plan[0]?.Plan as PlanNode;
}

/** The builder's query with its parameters as literals (EXPLAIN only; the values are the test's own). */
function inline(text: string, params: unknown[]): string {
  return text.replace(/\$(\d+)/g, (_, n: string) => {
    const value = params[Number(n) - 1];
    return typeof value === 'number' ? String(value) : `'${String(value).replace(/'/g, "''")}'`;
  });
}

describe('host list pages and sparklines on 52 hosts × 2 h of 10 s samples', () => {
  let env: Env;
  let owner: TestClient;
  let tenantId: string;
  let agent: TestAgent;
  let seeded: { id: string; name: string }[];
  beforeAll(async () => {
    env = await isolatedEnv();
    const setup = await ownerWithIngestKey(env, 'fleet');
    owner = setup.owner;
    agent = await TestAgent.enroll(env, setup.ingestKey, crypto.randomUUID(), 'zz-agent');
    await agent.push(agent.batch([sample(Date.now() - 1000, 33)]));
    tenantId = agent.tenantId;
    await withDatabase(env, (db) => seed(db, tenantId));
    const all = HostList.parse(await (await owner.get('/api/v1/hosts?limit=500')).json());
    seeded = all.hosts.filter((h) => h.name.startsWith('node-'));
  }, 120_000);

  it('pages through every host exactly once in (name, id) order, with a cursor and at-a-glance figures', async () => {
    expect(seeded).toHaveLength(52);
    const seen: { id: string; name: string }[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const query: string = cursor ? `?limit=7&cursor=${encodeURIComponent(cursor)}` : '?limit=7';
      const page = HostList.parse(await (await owner.get(`/api/v1/hosts${query}`)).json());
      expect(page.hosts.length).toBeLessThanOrEqual(7);
      seen.push(...page.hosts.map((h) => ({ id: h.id, name: h.name })));
      cursor = page.nextCursor;
      pages++;
    } while (cursor && pages < 20);
    expect(pages).toBe(8);
    expect(seen).toHaveLength(53);
    expect(new Set(seen.map((h) => h.id)).size).toBe(53);
    const sorted = [...seen].sort((a, b) => (a.name === b.name ? (a.id < b.id ? -1 : 1) : a.name < b.name ? -1 : 1));
    expect(seen).toEqual(sorted);
    expect(seen.filter((h) => h.name === 'node-25')).toHaveLength(3);
    expect(seen.at(-1)?.name).toBe('zz-agent');

    const first = HostList.parse(await (await owner.get('/api/v1/hosts')).json());
    expect(first.hosts).toHaveLength(53);
    expect(first.nextCursor).toBeNull();
    const node = first.hosts.find((h) => h.name === 'node-01');
    expect(node?.status).toBe('online');
    expect(node?.glance).toMatchObject({ memPct: 25, diskPct: 40, load1: 0.5 });
    expect(node?.glance?.cpuPct).toBeTypeOf('number');
    expect(first.hosts.find((h) => h.name === 'zz-agent')?.glance?.cpuPct).toBe(33);
  });

  it('filters names by q, literally and ignoring case', async () => {
    const names = async (q: string) =>
      HostList.parse(await (await owner.get(`/api/v1/hosts?q=${encodeURIComponent(q)}`)).json()).hosts.map(
        (h) => h.name,
      );
    expect(await names('NODE-1')).toEqual(Array.from({ length: 10 }, (_, i) => `node-1${i}`));
    expect(await names('_')).toEqual([]);
    expect(await names('%')).toEqual([]);
    const page = HostList.parse(await (await owner.get('/api/v1/hosts?q=node-2&limit=5')).json());
    expect(page.hosts.map((h) => h.name)).toEqual(['node-20', 'node-21', 'node-22', 'node-23', 'node-24']);
    const next = HostList.parse(
      await (await owner.get(`/api/v1/hosts?q=node-2&limit=5&cursor=${page.nextCursor}`)).json(),
    );
    expect(next.hosts.map((h) => h.name)).toEqual(['node-25', 'node-25', 'node-25', 'node-26', 'node-27']);
  });

  it('refuses a forged cursor and limits past 500 with 422 naming the field', async () => {
    for (const [query, path] of [
      ['?cursor=bm9wZQ', 'query.cursor'],
      [`?cursor=${btoa('["a","not-a-uuid"]')}`, 'query.cursor'],
      ['?limit=501', 'query.limit'],
      ['?limit=0', 'query.limit'],
    ] as const) {
      const res = await owner.get(`/api/v1/hosts${query}`);
      expect(res.status, query).toBe(422);
      expect((await errorOf(res)).path, query).toBe(path);
    }
  });

  it('answers the sparklines of many hosts in one request, at most 60 points each, oldest first', async () => {
    const ids = seeded.slice(0, 30).map((h) => h.id);
    const res = await owner.get(`/api/v1/hosts/sparklines?ids=${ids.join(',')}`);
    expect(res.status).toBe(200);
    const answer = HostSparklines.parse(await res.json());
    expect(Date.parse(answer.to) - Date.parse(answer.from)).toBe(5 * 60_000);
    expect(answer.hosts.map((h) => h.hostId).sort()).toEqual([...ids].sort());
    for (const host of answer.hosts) {
      // 5 minutes of 10 s samples: 30 or 31 of them, all kept.
      expect(host.points.length).toBeGreaterThanOrEqual(30);
      expect(host.points.length).toBeLessThanOrEqual(31);
      const ts = host.points.map((p) => p.ts);
      expect(ts).toEqual([...ts].sort((a, b) => a - b));
      expect(host.points[0]).toMatchObject({ memUsed: 250, memTotal: 1000, net: 160 });
      expect(host.points[0]?.cpu).toBe(Math.floor((host.points[0]?.ts ?? 0) / 10_000) % 100);
    }

    // 15 minutes hold 91 samples a host: thinned evenly to exactly 60.
    const to = Date.now();
    const wide = HostSparklines.parse(
      await (
        await owner.get(
          `/api/v1/hosts/sparklines?ids=${ids[0]}&from=${new Date(to - 15 * 60_000).toISOString()}&to=${new Date(to).toISOString()}`,
        )
      ).json(),
    );
    expect(wide.hosts[0]?.points).toHaveLength(MAX_SPARKLINE_POINTS);
  });

  it("leaves out other organisations' hosts and refuses bad id lists", async () => {
    const stranger = await ownerWithIngestKey(env, 'stranger');
    const mine = seeded[0]?.id ?? '';
    const theirs = HostSparklines.parse(
      await (await stranger.owner.get(`/api/v1/hosts/sparklines?ids=${mine}`)).json(),
    );
    expect(theirs.hosts).toEqual([]);
    const tooMany = Array.from({ length: 201 }, () => crypto.randomUUID()).join(',');
    for (const query of [`ids=${tooMany}`, 'ids=not-a-uuid', 'ids=', '']) {
      const res = await owner.get(`/api/v1/hosts/sparklines?${query}`);
      expect(res.status, query).toBe(422);
      expect((await errorOf(res)).path, query).toMatch(/^query\.ids/);
    }
    const span = await owner.get(
      `/api/v1/hosts/sparklines?ids=${mine}&from=${new Date(Date.now() - 3600_000).toISOString()}`,
    );
    expect(span.status).toBe(422);
  });

  it('reads host_samples only through its (host_id, ts) key: the page glance and the sparklines (EXPLAIN)', async () => {
    const pageIds = seeded.slice(0, 20).map((h) => h.id);
    await withDatabase(env, async (db) => {
      const to = new Date();
      const plans = {
        page: await planOf(db, hostPageSelect(db, tenantId, { limit: 20, q: 'node' }).toSQL()),
        glance: await planOf(db, latestSectionsOfHostsQuery(tenantId, pageIds, GLANCE_SECTIONS)),
        sparklines: await planOf(
          db,
          sparklinesQuery({
            tenantId,
            hostIds: pageIds,
            from: new Date(to.getTime() - 5 * 60_000),
            to,
            maxPoints: MAX_SPARKLINE_POINTS,
          }),
        ),
      };
      expect(scansOf(plans.page, 'host_samples')).toEqual([]);
      for (const name of ['glance', 'sparklines'] as const) {
        const scans = scansOf(plans[name], 'host_samples');
        expect(scans.length, name).toBeGreaterThan(0);
        for (const scan of scans) {
          const detail = `${name}: ${JSON.stringify(plans[name])}`;
          expect(['Index Scan', 'Index Only Scan', 'Bitmap Heap Scan'], detail).toContain(scan['Node Type']);
          // An index scan names its index; a bitmap heap scan reads the bitmaps its index scans built.
          const indexScans = scan['Node Type'] === 'Bitmap Heap Scan' ? (scan.Plans ?? []) : [scan];
          expect(indexScans.length, detail).toBeGreaterThan(0);
          for (const index of indexScans) {
            // The (host_id, ts) key, as each partition of host_samples has it.
            expect(index['Index Name'], detail).toMatch(/^host_samples_(host_id_ts_pk|\w+_pkey)$/);
            // Bounded by host and time: the walk reads the host's window, not its whole history.
            expect(index['Index Cond'], detail).toMatch(/host_id = h\.id\) AND \(ts [<>]?= /);
          }
        }
      }
    });
  });
});
