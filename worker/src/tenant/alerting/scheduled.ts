import { evaluateAnomaly } from '../../alerts/anomaly.ts';
import type { AlertEngine } from '../../alerts/engine.ts';
import { evaluateForecast } from '../../alerts/forecast.ts';
import type { AlertTransition } from '../../alerts/types.ts';
import type { Queryable } from '../../db/client.ts';
import { planHistory } from '../../history/plan.ts';
import { readWatermarks, seriesPoints } from '../../history/query.ts';
import { DEFAULT_RETENTION_DAYS } from '../../history/retention.ts';

/** Forecast and anomaly rules are evaluated from history this often, not per batch. */
export const SCHEDULED_INTERVAL_MS = 15 * 60_000;
/** Points read per host per evaluation: enough for a regression or a median, small enough to read. */
const POINTS_PER_HOST = 360;
const HOUR = 3_600_000;

type Point = { ts: number; value: number };

/**
 * Long windows never live in the object: for each forecast/anomaly rule, the series the engine
 * names are read from history (one thinned query per host, over the longest range any rule needs
 * for it), evaluated, and handed back to the engine, which keeps only the alert state.
 */
export async function runScheduled(
  database: Queryable,
  tenantId: string,
  engine: AlertEngine,
  now: number,
): Promise<AlertTransition[]> {
  const work = engine.scheduledWork();
  const spanByHost = new Map<string, { span: number; series: Set<string> }>();
  for (const { rule, targets } of work) {
    const c = rule.spec.condition;
    const span =
      c.kind === 'forecast'
        ? c.lookbackHours * HOUR
        : c.kind === 'anomaly'
          ? c.baselineHours * HOUR + c.windowSeconds * 1000
          : 0;
    for (const t of targets) {
      const entry = spanByHost.get(t.host.id) ?? { span: 0, series: new Set<string>() };
      entry.span = Math.max(entry.span, span);
      entry.series.add(t.series);
      spanByHost.set(t.host.id, entry);
    }
  }
  // From the history tiers (1-minute or 1-hour rollups for long spans), never the object's memory.
  const watermarks = await readWatermarks(database);
  const plan = (query: { from: string; to: string; maxPoints: number }) =>
    planHistory(query, DEFAULT_RETENTION_DAYS, now);
  const history = new Map<string, Map<string, Point[]>>();
  for (const [hostId, { span, series }] of spanByHost) {
    history.set(
      hostId,
      await seriesPoints(
        database,
        { tenantId, hostId, series: [...series], from: now - span, to: now, maxPoints: POINTS_PER_HOST },
        plan,
        watermarks,
      ),
    );
  }

  const transitions: AlertTransition[] = [];
  for (const { rule, targets } of work) {
    const c = rule.spec.condition;
    if (c.kind !== 'forecast' && c.kind !== 'anomaly') continue;
    for (const target of targets) {
      const points = history.get(target.host.id)?.get(target.series) ?? [];
      const observation =
        c.kind === 'forecast'
          ? evaluateForecast(c, points, now)
          : evaluateAnomaly(
              c,
              points.filter((p) => p.ts <= now - c.windowSeconds * 1000),
              points.filter((p) => p.ts > now - c.windowSeconds * 1000),
              now,
            );
      transitions.push(...(await engine.applyScheduled(rule.id, target.host, target.labels, observation, now)));
    }
  }
  return transitions;
}
