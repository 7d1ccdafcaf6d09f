import { samplePoints, seriesKey } from '@pulsewire/protocol';
import { evaluateAnomaly } from '../../alerts/anomaly.ts';
import type { AlertEngine } from '../../alerts/engine.ts';
import { evaluateForecast } from '../../alerts/forecast.ts';
import type { AlertTransition } from '../../alerts/types.ts';
import type { Queryable } from '../../db/client.ts';
import { seriesSamples } from '../../history/series.ts';

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
  const spanByHost = new Map<string, number>();
  for (const { rule, targets } of work) {
    const c = rule.spec.condition;
    const span =
      c.kind === 'forecast'
        ? c.lookbackHours * HOUR
        : c.kind === 'anomaly'
          ? c.baselineHours * HOUR + c.windowSeconds * 1000
          : 0;
    for (const t of targets) spanByHost.set(t.host.id, Math.max(spanByHost.get(t.host.id) ?? 0, span));
  }
  const history = new Map<string, Map<string, Point[]>>();
  for (const [hostId, span] of spanByHost) {
    const samples = await seriesSamples(database, {
      tenantId,
      hostId,
      from: new Date(now - span),
      to: new Date(now),
      maxPoints: POINTS_PER_HOST,
    });
    const bySeries = new Map<string, Point[]>();
    for (const sample of samples) {
      for (const p of samplePoints(sample)) {
        const key = seriesKey(p.metric, p.labels);
        const list = bySeries.get(key) ?? [];
        list.push({ ts: sample.ts, value: p.value });
        bySeries.set(key, list);
      }
    }
    history.set(hostId, bySeries);
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
