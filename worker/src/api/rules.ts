import {
  AcceptedResponse,
  CUSTOM_PREFIX,
  histogramStats,
  MAX_RULES_PER_ORG,
  METRICS,
  MetricCatalog,
  matchesLabels,
  parseLabelSelector,
  Rule,
  RuleInput,
  RuleList,
  RulePatch,
  RulePreview,
  RulePreviewRequest,
  type RuleSpec,
  samplePoints,
  seriesKey,
} from '@pulsewire/protocol';
import { and, asc, eq, inArray, isNull, sql } from 'drizzle-orm';
import type { Context } from 'hono';
import type { z } from 'zod';
import { projectedBytes, type ReportingHost, windowRoomBytes } from '../alerts/memory-demand.ts';
import { previewRule, replaySpanMs } from '../alerts/preview.ts';
import type { EngineRule } from '../alerts/types.ts';
import { caller, requireCaller } from '../auth/caller.ts';
import type { Queryable } from '../db/client.ts';
import {
  alertEvents,
  alertRules,
  customMetricPoints,
  hosts,
  notificationChannels,
  type StoredRuleSpec,
} from '../db/schema.ts';
import { parseConfig } from '../env.ts';
import { latestSections } from '../history/latest.ts';
import { planHistory } from '../history/plan.ts';
import { rawObservations, readWatermarks, seriesPoints } from '../history/query.ts';
import { DEFAULT_RETENTION_DAYS } from '../history/retention.ts';
import type { AppEnv } from '../http/app-env.ts';
import { db } from '../http/database.ts';
import { HttpError, notFound } from '../http/errors.ts';
import { jsonRoute, router } from '../http/route.ts';
import { validationError } from '../http/validation.ts';
import { alertConfigChanged } from './alert-config.ts';
import { ensureRoom } from './alert-limits.ts';
import { IdParam } from './params.ts';

const tags = ['alert rules'];
const RULE_LIMIT = { max: MAX_RULES_PER_ORG, code: 'too_many_rules', noun: 'alert rules' };
const TOO_MANY_SERIES =
  '`too_many_series`: the rule would watch more series than alert evaluation has memory for on the hosts reporting now';
/** Label sets listed per metric in the catalogue, so a host with thousands of containers stays readable. */
const MAX_SERIES_PER_METRIC = 200;

type RuleRow = typeof alertRules.$inferSelect;

export function presentRule(row: RuleRow): z.infer<typeof Rule> {
  return {
    ...row.spec,
    id: row.id,
    name: row.name,
    enabled: row.enabled,
    builtIn: row.builtIn,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

/** Splits a validated rule into its columns and stored spec. Channel ids are kept once each. */
function columnsOf(rule: RuleSpec) {
  const { name, enabled, ...rest } = rule;
  const channelIds = rest.notify.channelIds === null ? null : [...new Set(rest.notify.channelIds)];
  const spec: StoredRuleSpec = { ...rest, notify: { ...rest.notify, channelIds } };
  return { name, enabled, kind: rule.condition.kind, spec };
}

/** A rule may only name channels of its own organisation (`channel_not_found`, 422). */
async function assertOwnChannels(database: Queryable, tenantId: string, rule: RuleSpec): Promise<void> {
  const ids = rule.notify.channelIds;
  if (!ids || ids.length === 0) return;
  const found = await database
    .select({ id: notificationChannels.id })
    .from(notificationChannels)
    .where(and(eq(notificationChannels.tenantId, tenantId), inArray(notificationChannels.id, ids)));
  const known = new Set(found.map((r) => r.id));
  const missing = ids.findIndex((id) => !known.has(id));
  if (missing >= 0) {
    throw new HttpError(422, 'channel_not_found', `No such notification channel: ${ids[missing]}`, {
      path: `json.notify.channelIds.${missing}`,
    });
  }
}

/** Host metrics every reporting host has (one series each), counted for hosts with no recent sample. */
const HOST_LEVEL_SERIES = METRICS.filter((m) => !m.dimension).map((m) => ({ metric: m.path, labels: {} }));

/**
 * Refuses (409 `too_many_series`) an enabled threshold or rate rule whose windows would not fit the
 * tenant object's alerting memory on the organisation's hosts as they report now, unless the change
 * needs no more than the rules already do (so an organisation over its budget can still narrow its
 * rules). The series are those of each host's latest sample; custom metrics are not counted.
 */
async function assertRoomToWatch(
  database: Queryable,
  tenantId: string,
  budgetBytes: number,
  change: { id: string | null; spec: RuleSpec },
): Promise<void> {
  const kind = change.spec.condition.kind;
  if (!change.spec.enabled || (kind !== 'threshold' && kind !== 'rate')) return;
  const [ruleRows, hostRows, latest] = await Promise.all([
    database
      .select()
      .from(alertRules)
      .where(and(eq(alertRules.tenantId, tenantId), eq(alertRules.enabled, true))),
    database
      .select({ id: hosts.id, name: hosts.name, labels: hosts.labels })
      .from(hosts)
      .where(and(eq(hosts.tenantId, tenantId), isNull(hosts.revokedAt), isNull(hosts.deletedAt))),
    latestSections(database, tenantId),
  ]);
  const current: EngineRule[] = [];
  for (const row of ruleRows) {
    const spec = RuleInput.safeParse({ ...row.spec, name: row.name, enabled: row.enabled });
    if (spec.success) current.push({ id: row.id, spec: spec.data, updatedAt: row.updatedAt.getTime() });
  }
  const proposed = [
    ...current.filter((r) => r.id !== change.id),
    { id: change.id ?? crypto.randomUUID(), spec: change.spec, updatedAt: Date.now() },
  ];
  const reporting: ReportingHost[] = hostRows.map((host) => {
    const sample = latest.get(host.id);
    const series: ReportingHost['series'] = sample ? samplePoints(sample) : [];
    const reported = new Set(series.map((s) => s.metric));
    return { host, series: [...series, ...HOST_LEVEL_SERIES.filter((s) => !reported.has(s.metric))] };
  });
  const room = windowRoomBytes(budgetBytes);
  const after = projectedBytes(proposed, reporting);
  if (after <= room || after <= projectedBytes(current, reporting)) return;
  const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
  throw new HttpError(
    409,
    'too_many_series',
    `With this rule, alert evaluation would keep ${mib(after)} of windows for ${hostRows.length} hosts; it has ${mib(room)}. Narrow the rule's scope or series, or use a window length another rule on this metric already uses.`,
    { path: 'json.condition', details: { neededBytes: Math.ceil(after), availableBytes: Math.floor(room) } },
  );
}

async function ownRule(database: Queryable, tenantId: string, id: string): Promise<RuleRow> {
  const [row] = await database
    .select()
    .from(alertRules)
    .where(and(eq(alertRules.id, id), eq(alertRules.tenantId, tenantId)))
    .limit(1);
  if (!row) throw notFound('No such alert rule');
  return row;
}

/** Every collected metric, with the label sets (mounts, interfaces…) seen on the tenant's hosts' latest samples. */
async function metricCatalog(c: Context<AppEnv>) {
  const latest = await latestSections(db(c), caller(c).tenantId);
  const seen = new Map<string, Map<string, Record<string, string>>>();
  for (const sample of latest.values()) {
    for (const point of samplePoints(sample)) {
      if (Object.keys(point.labels).length === 0) continue;
      const series = seen.get(point.metric) ?? new Map<string, Record<string, string>>();
      series.set(seriesKey(point.metric, point.labels), point.labels);
      seen.set(point.metric, series);
    }
  }
  const sortedSeries = (series: Map<string, Record<string, string>> | undefined) =>
    [...(series?.entries() ?? [])]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .slice(0, MAX_SERIES_PER_METRIC)
      .map(([, labels]) => labels);
  const collected = METRICS.map((m) => (m.dimension ? { ...m, series: sortedSeries(seen.get(m.path)) } : { ...m }));
  return [...collected, ...(await customCatalog(db(c), caller(c).tenantId))];
}

/** Custom metrics sent in the last hours (the landing rows), each with the label sets seen. */
async function customCatalog(database: Queryable, tenantId: string) {
  const rows = await database.execute<{ name: string; kind: string; labels: Record<string, string> }>(sql`
    SELECT DISTINCT name, kind, labels FROM ${customMetricPoints}
    WHERE tenant_id = ${tenantId} AND ts > now() - interval '6 hours'
    LIMIT 500`);
  const byPath = new Map<string, Map<string, Record<string, string>>>();
  for (const row of rows.rows) {
    const base = `${CUSTOM_PREFIX}${row.name}`;
    const paths = row.kind === 'histogram' ? histogramStats.map((stat) => `${base}.${stat}`) : [base];
    for (const path of paths) {
      const series = byPath.get(path) ?? new Map<string, Record<string, string>>();
      series.set(seriesKey(path, row.labels), row.labels);
      byPath.set(path, series);
    }
  }
  return [...byPath]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([path, series]) => ({
      path,
      title: path.slice(CUSTOM_PREFIX.length),
      unit: 'number',
      series: [...series.entries()]
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .slice(0, MAX_SERIES_PER_METRIC)
        .map(([, labels]) => labels),
    }));
}

/** Hosts a preview draws at most (by name): enough to judge a rule, bounded in reads. */
export const MAX_PREVIEW_HOSTS = 20;
const PREVIEW_DRAWN_POINTS = 300;

async function preview(c: Context<AppEnv>, spec: RuleSpec, hours: number) {
  const tenantId = caller(c).tenantId;
  const database = db(c);
  const scope = spec.scope;
  const rows = await database
    .select({ id: hosts.id, name: hosts.name, labels: hosts.labels })
    .from(hosts)
    .where(
      and(
        eq(hosts.tenantId, tenantId),
        isNull(hosts.revokedAt),
        scope.type === 'hosts' ? inArray(hosts.id, scope.hostIds) : undefined,
      ),
    )
    .orderBy(asc(hosts.name), asc(hosts.id));
  const matchers = scope.type === 'labels' ? (parseLabelSelector(scope.selector) ?? []) : [];
  const inScope = rows.filter((h) => matchesLabels(matchers, h.labels)).slice(0, MAX_PREVIEW_HOSTS);
  const now = Date.now();
  const pushIntervalMs = parseConfig(c.env).INGEST_IDLE_PUSH_MS;
  const recentFrom = now - replaySpanMs(spec);
  // From the history tiers: the drawn range bucketed, the replayed span at full resolution. Rules that watch
  // no series (host down, reboot, events) replay the CPU series for its collection times.
  const condition = spec.condition;
  const series = ['metric' in condition ? condition.metric.path : 'cpu.total'];
  const watermarks = await readWatermarks(database);
  const plan = (query: { from: string; to: string; maxPoints: number }) =>
    planHistory(query, DEFAULT_RETENTION_DAYS, now);
  const previewHosts = [];
  for (const host of inScope) {
    const target = { tenantId, hostId: host.id, series, to: now };
    previewHosts.push({
      host,
      pushIntervalMs,
      drawn: await seriesPoints(
        database,
        { ...target, from: now - hours * 3_600_000, maxPoints: PREVIEW_DRAWN_POINTS },
        plan,
        watermarks,
      ),
      recent: await rawObservations(database, { ...target, from: recentFrom }, watermarks),
    });
  }
  return previewRule(spec, previewHosts, now);
}

export const ruleRoutes = router()
  .openapi(
    jsonRoute({
      method: 'get',
      path: '/rules',
      summary: 'Alert rules of the organisation, by name',
      tags,
      response: RuleList,
      status: 200,
      middleware: [requireCaller('viewer')],
    }),
    async (c) => {
      const rows = await db(c)
        .select()
        .from(alertRules)
        .where(eq(alertRules.tenantId, caller(c).tenantId))
        .orderBy(asc(alertRules.name), asc(alertRules.id));
      return c.json({ rules: rows.map(presentRule) }, 200);
    },
  )
  .openapi(
    jsonRoute({
      method: 'get',
      path: '/rules/metrics',
      summary:
        'What a rule can watch: every collected metric, with the label sets (mounts, interfaces, GPUs…) seen on the organisation’s hosts; custom metrics are `custom.<name>`',
      tags,
      response: MetricCatalog,
      status: 200,
      middleware: [requireCaller('viewer')],
    }),
    async (c) => c.json({ metrics: await metricCatalog(c) }, 200),
  )
  .openapi(
    jsonRoute({
      method: 'post',
      path: '/rules/preview',
      summary: `What a rule, as edited, says about the last hours of the hosts it covers (at most ${MAX_PREVIEW_HOSTS}): each watched series, and whether it would fire now`,
      tags,
      body: RulePreviewRequest,
      response: RulePreview,
      status: 200,
      middleware: [requireCaller('viewer')],
    }),
    async (c) => {
      const { rule, hours } = c.req.valid('json');
      return c.json({ hosts: await preview(c, rule, hours) }, 200);
    },
  )
  .openapi(
    jsonRoute({
      method: 'post',
      path: '/rules',
      summary: `Create an alert rule (at most ${MAX_RULES_PER_ORG} per organisation)`,
      tags,
      body: RuleInput,
      response: Rule,
      status: 201,
      conflict: `\`too_many_rules\`: the organisation has the most rules it may have; ${TOO_MANY_SERIES}`,
      middleware: [requireCaller('admin')],
    }),
    async (c) => {
      const input = c.req.valid('json');
      const tenantId = caller(c).tenantId;
      const row = await db(c).transaction(async (tx) => {
        await ensureRoom(tx, tenantId, RULE_LIMIT, () => tx.$count(alertRules, eq(alertRules.tenantId, tenantId)));
        await assertOwnChannels(tx, tenantId, input);
        await assertRoomToWatch(tx, tenantId, parseConfig(c.env).ALERT_MEMORY_BUDGET_BYTES, { id: null, spec: input });
        const [inserted] = await tx
          .insert(alertRules)
          .values({ tenantId, ...columnsOf(input) })
          .returning();
        return inserted;
      });
      if (!row) throw new Error('alert rule insert returned nothing');
      await alertConfigChanged(c, tenantId);
      return c.json(presentRule(row), 201);
    },
  )
  .openapi(
    jsonRoute({
      method: 'get',
      path: '/rules/{id}',
      summary: 'One alert rule',
      tags,
      params: IdParam,
      response: Rule,
      status: 200,
      middleware: [requireCaller('viewer')],
    }),
    async (c) => c.json(presentRule(await ownRule(db(c), caller(c).tenantId, c.req.valid('param').id)), 200),
  )
  .openapi(
    jsonRoute({
      method: 'patch',
      path: '/rules/{id}',
      summary: 'Change an alert rule: the fields given; a `condition` is replaced whole, `notify` merged',
      tags,
      params: IdParam,
      body: RulePatch,
      response: Rule,
      status: 200,
      conflict: TOO_MANY_SERIES,
      middleware: [requireCaller('admin')],
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const patch = c.req.valid('json');
      const tenantId = caller(c).tenantId;
      const row = await db(c).transaction(async (tx) => {
        const current = await ownRule(tx, tenantId, id);
        const merged = RuleInput.safeParse({
          ...current.spec,
          name: current.name,
          enabled: current.enabled,
          ...patch,
          notify: { ...current.spec.notify, ...patch.notify },
        });
        if (!merged.success) throw validationError('json', merged.error.issues);
        await assertOwnChannels(tx, tenantId, merged.data);
        const budget = parseConfig(c.env).ALERT_MEMORY_BUDGET_BYTES;
        await assertRoomToWatch(tx, tenantId, budget, { id, spec: merged.data });
        const [updated] = await tx
          .update(alertRules)
          .set({ ...columnsOf(merged.data), updatedAt: new Date() })
          .where(and(eq(alertRules.id, id), eq(alertRules.tenantId, tenantId)))
          .returning();
        return updated;
      });
      if (!row) throw notFound('No such alert rule');
      await alertConfigChanged(c, tenantId);
      return c.json(presentRule(row), 200);
    },
  )
  .openapi(
    jsonRoute({
      method: 'delete',
      path: '/rules/{id}',
      summary: 'Delete an alert rule; its open alerts are resolved, its history stays',
      tags,
      params: IdParam,
      response: AcceptedResponse,
      status: 200,
      middleware: [requireCaller('admin')],
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const tenantId = caller(c).tenantId;
      const deleted = await db(c).transaction(async (tx) => {
        const [row] = await tx
          .delete(alertRules)
          .where(and(eq(alertRules.id, id), eq(alertRules.tenantId, tenantId)))
          .returning({ id: alertRules.id });
        if (!row) return false;
        const now = new Date();
        await tx
          .update(alertEvents)
          .set({ state: 'resolved', resolvedAt: now, updatedAt: now })
          .where(
            and(
              eq(alertEvents.tenantId, tenantId),
              eq(alertEvents.ruleId, id),
              inArray(alertEvents.state, ['pending', 'firing', 'stale']),
            ),
          );
        return true;
      });
      if (!deleted) throw notFound('No such alert rule');
      await alertConfigChanged(c, tenantId);
      return c.json({ ok: true as const, message: 'Alert rule deleted' }, 200);
    },
  );
