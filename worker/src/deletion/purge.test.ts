import { createExecutionContext, createScheduledController, waitOnExecutionContext } from 'cloudflare:test';
import type { IngestBatch } from '@pulsewire/protocol';
import { CreatedApiKey, MeResponse } from '@pulsewire/protocol';
import { count, eq, sql } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { enrollRequest, FACTS, ownerWithIngestKey, sample, TestAgent } from '../../test/agent.ts';
import { signedUpClient } from '../../test/client.ts';
import { isolatedEnv, withDatabase } from '../../test/support.ts';
import type { Database } from '../db/client.ts';
import {
  appEvents,
  auditLog,
  customMetricPoints,
  hostSamples,
  hosts,
  ingestBatches,
  sessions,
  tenants,
} from '../db/schema.ts';
import type { Env } from '../env.ts';
import worker from '../index.ts';
import { MIN_STATEMENTS, purgeDeleted } from './purge.ts';

/** A batch with samples, a custom metric and an event per sample: rows in every table a host owns. */
function busyBatch(agent: TestAgent, from: number, n: number): IngestBatch {
  const stamps = Array.from({ length: n }, (_, i) => from + i * 1000);
  return agent.batch(
    stamps.map((ts) => sample(ts)),
    {
      metrics: stamps.map((ts) => ({ name: 'queue.depth', kind: 'gauge' as const, value: ts % 7, ts, labels: {} })),
      events: stamps.map((ts) => ({ ts, kind: 'job.progress', id: `job-${ts}`, progress: 0.5 })),
    },
  );
}

async function hostRows(db: Database, hostId: string) {
  const n = async (table: typeof hostSamples | typeof customMetricPoints | typeof appEvents | typeof ingestBatches) =>
    (await db.select({ n: count() }).from(table).where(eq(table.hostId, hostId)))[0]?.n ?? 0;
  return {
    samples: await n(hostSamples),
    metrics: await n(customMetricPoints),
    events: await n(appEvents),
    batches: await n(ingestBatches),
    host: (await db.select({ n: count() }).from(hosts).where(eq(hosts.id, hostId)))[0]?.n ?? 0,
  };
}

/** Rows of the organisation in every table that has a tenant_id column, by table (empty tables left out). */
async function tenantRows(db: Database, tenantId: string): Promise<Record<string, number>> {
  const tables = await db.execute<{ table_name: string }>(sql`
    SELECT table_name FROM information_schema.columns
    WHERE table_schema = 'public' AND column_name = 'tenant_id' ORDER BY table_name`);
  const found: Record<string, number> = {};
  for (const { table_name } of tables.rows) {
    const result = await db.execute<{ n: string }>(
      sql`SELECT count(*) AS n FROM ${sql.identifier(table_name)} WHERE tenant_id = ${tenantId}`,
    );
    const n = Number(result.rows[0]?.n ?? 0);
    if (n > 0) found[table_name] = n;
  }
  return found;
}

async function runCron(env: Env): Promise<void> {
  const ctx = createExecutionContext();
  await worker.scheduled(createScheduledController({ cron: '*/5 * * * *', scheduledTime: Date.now() }), env, ctx);
  await waitOnExecutionContext(ctx);
}

describe('purging deleted hosts and organisations', () => {
  let env: Env;
  beforeAll(async () => {
    env = await isolatedEnv();
  });

  it('removes a deleted host in chunks no run exceeds, and nothing of the hosts kept', async () => {
    const { owner, ingestKey } = await ownerWithIngestKey(env, 'purger');
    const doomed = await TestAgent.enroll(env, ingestKey, crypto.randomUUID(), 'doomed');
    const kept = await TestAgent.enroll(env, ingestKey, crypto.randomUUID(), 'kept');
    const t0 = Date.now() - 600_000;
    for (const agent of [doomed, kept]) {
      for (let i = 0; i < 3; i++) expect((await agent.push(busyBatch(agent, t0 + i * 20_000, 10))).status).toBe(200);
    }
    const keptBefore = await withDatabase(env, (db) => hostRows(db, kept.hostId));
    expect(keptBefore).toEqual({ samples: 30, metrics: 30, events: 30, batches: 3, host: 1 });
    expect((await owner.delete(`/api/v1/hosts/${doomed.hostId}`)).status).toBe(200);

    const runs: number[] = [];
    for (let run = 0; run < 30; run++) {
      // A budget below the minimum is raised to it: every run must get somewhere.
      const report = await withDatabase(env, (db) => purgeDeleted(db, { chunkRows: 5, maxStatements: 2 }));
      expect(report.statements).toBeLessThanOrEqual(MIN_STATEMENTS);
      expect(report.rowsDeleted).toBeLessThanOrEqual(MIN_STATEMENTS * 5);
      runs.push(report.rowsDeleted);
      if (report.done) break;
    }
    // 93 rows in chunks of at most 5, MIN_STATEMENTS statements a run: several runs, each deleting something, then done.
    expect(runs.length).toBeGreaterThan(3);
    expect(runs.slice(0, -2).every((rows) => rows > 0)).toBe(true);
    expect(runs.reduce((a, b) => a + b, 0)).toBe(93);
    expect(await withDatabase(env, (db) => hostRows(db, doomed.hostId))).toEqual({
      samples: 0,
      metrics: 0,
      events: 0,
      batches: 0,
      host: 0,
    });
    expect(await withDatabase(env, (db) => hostRows(db, kept.hostId))).toEqual(keptBefore);
    // The audit entry of the deletion outlives the host.
    const audit = await withDatabase(env, (db) =>
      db.select({ action: auditLog.action }).from(auditLog).where(eq(auditLog.targetId, doomed.hostId)),
    );
    expect(audit).toEqual([{ action: 'host.deleted' }]);
    // An agent of a purged host is unknown now.
    expect((await doomed.push(doomed.batch([sample(Date.now())]))).status).toBe(401);
  });

  it('deletes an organisation in one short request, shuts every door at once, and the cron purges the rest', async () => {
    const { client: owner } = await signedUpClient(env, 'leaver');
    const side = MeResponse.parse(await (await owner.post('/api/v1/organizations', { name: 'Side' })).json());
    const tenantId = side.organization.id;
    const ingest = CreatedApiKey.parse(await (await owner.post('/api/v1/keys', { name: 'a', scope: 'ingest' })).json());
    const read = CreatedApiKey.parse(await (await owner.post('/api/v1/keys', { name: 'r', scope: 'read' })).json());
    const agent = await TestAgent.enroll(env, ingest.secret, crypto.randomUUID(), 'side-1');
    expect((await agent.push(busyBatch(agent, Date.now() - 60_000, 20))).status).toBe(200);
    // A neighbour organisation whose rows must survive.
    const other = await ownerWithIngestKey(env, 'neighbour');
    const neighbour = await TestAgent.enroll(env, other.ingestKey, crypto.randomUUID(), 'n-1');
    expect((await neighbour.push(busyBatch(neighbour, Date.now() - 60_000, 5))).status).toBe(200);
    const neighbourTenant = neighbour.tenantId;
    const neighbourBefore = await withDatabase(env, (db) => tenantRows(db, neighbourTenant));

    expect((await owner.delete('/api/v1/organizations/current')).status).toBe(200);
    const me = MeResponse.parse(await (await owner.get('/api/v1/me')).json());
    expect(me.organizations.map((o) => o.id)).not.toContain(tenantId);
    expect(me.organization.id).not.toBe(tenantId);
    const byKey = await owner.request('GET', '/api/v1/hosts', undefined, { Authorization: `Bearer ${read.secret}` });
    expect(byKey.status).toBe(401);
    expect((await agent.push(agent.batch([sample(Date.now())]))).status).toBe(403);
    const enroll = await enrollRequest(env, ingest.secret, {
      publicKey: 'A'.repeat(43),
      machineId: 'late',
      hostname: 'late',
      facts: FACTS,
      agentVersion: '0.1.0',
    });
    expect(enroll.status).toBe(403);
    // Nothing big was deleted by the request.
    const waiting = await withDatabase(env, (db) => tenantRows(db, tenantId));
    expect(waiting).toMatchObject({ host_samples: 20, app_events: 20, custom_metric_points: 20, hosts: 1 });
    expect(waiting.memberships).toBeUndefined();

    await runCron(env);

    expect(await withDatabase(env, (db) => tenantRows(db, tenantId))).toEqual({});
    const left = await withDatabase(env, (db) => db.select().from(tenants).where(eq(tenants.id, tenantId)));
    expect(left).toEqual([]);
    const pointing = await withDatabase(env, (db) =>
      db.select({ n: count() }).from(sessions).where(eq(sessions.activeTenantId, tenantId)),
    );
    expect(pointing[0]?.n).toBe(0);
    expect(await withDatabase(env, (db) => tenantRows(db, neighbourTenant))).toEqual(neighbourBefore);
    // Nothing left: the next run does nothing.
    const idle = await withDatabase(env, (db) => purgeDeleted(db));
    expect(idle).toMatchObject({ rowsDeleted: 0, hostsPurged: 0, tenantsPurged: 0, done: true });
  });
});
