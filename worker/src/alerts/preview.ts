import {
  type AlertLevel,
  matchesLabels,
  type RulePreview,
  type RuleSpec,
  type SeriesLabels,
  type SeriesPoint,
  seriesKey,
} from '@pulsewire/protocol';
import type { z } from 'zod';
import { parseSeriesKey } from '../history/series-key.ts';
import { evaluateAnomaly } from './anomaly.ts';
import { AlertEngine } from './engine.ts';
import { evaluateForecast } from './forecast.ts';
import { memoryStorage } from './storage.ts';
import type { EngineHost } from './types.ts';

/** One collection of a host as the engine observes it: its time and its series' values. */
export interface PreviewObservation {
  ts: number;
  points: SeriesPoint[];
}

/** A host and its history, oldest first. */
export interface PreviewHost {
  host: EngineHost;
  /** The preview range per series key, bucketed for drawing (from the history tiers). */
  drawn: ReadonlyMap<string, readonly { ts: number; value: number }[]>;
  /** The last {@link replaySpanMs} at full resolution, replayed through the engine. */
  recent: readonly PreviewObservation[];
  pushIntervalMs: number;
}

/** How much recent history decides "would fire now": the rule's window, pending and keep-firing times, and a margin. */
export function replaySpanMs(spec: RuleSpec): number {
  const c = spec.condition;
  const window = 'windowSeconds' in c ? c.windowSeconds : 0;
  const seconds = window + spec.forSeconds + spec.keepFiringForSeconds + 600;
  return Math.min(seconds, 6 * 3600) * 1000;
}

const PREVIEW_RULE_ID = '00000000-0000-4000-8000-000000000000';

/**
 * What a rule, as edited, says about the last hours of each host: the watched series drawn, and
 * whether it would fire now, with what value. The history is replayed through a real engine (over
 * memory, not the object's storage) one sample at a time, so `for`, `keep_firing_for`, windows and
 * hysteresis act as they would live; forecast and anomaly rules run their scheduled evaluation
 * over the same points.
 */
export async function previewRule(
  spec: RuleSpec,
  hosts: readonly PreviewHost[],
  now: number,
): Promise<z.infer<typeof RulePreview>['hosts']> {
  const condition = spec.condition;
  const metric = 'metric' in condition ? condition.metric : null;
  const answer: z.infer<typeof RulePreview>['hosts'] = [];
  for (const { host, drawn, recent, pushIntervalMs } of hosts) {
    const series = new Map<string, { labels: SeriesLabels; points: [number, number][] }>();
    for (const [key, points] of drawn) {
      const { metric: path, labels } = parseSeriesKey(key);
      if (!metric || path !== metric.path || !matchesLabels(metric.match, labels)) continue;
      series.set(key, { labels, points: points.map((p) => [p.ts, p.value]) });
    }
    const latest = new Map<string, number>();
    for (const observation of recent) {
      for (const p of observation.points) {
        if (metric && p.metric === metric.path) latest.set(seriesKey(p.metric, p.labels), p.value);
      }
    }
    const firing = await replay(spec, host, recent, pushIntervalMs, now, series);
    answer.push({
      hostId: host.id,
      hostName: host.name,
      series: metric
        ? [...series].map(([key, s]) => ({
            key,
            labels: s.labels,
            points: s.points,
            wouldFire: firing.get(key) ?? null,
            value: latest.get(key) ?? s.points.at(-1)?.[1] ?? null,
          }))
        : // Host down, reboot and event rules watch no series: one line saying what they would do now.
          [{ key: '', labels: {}, points: [], wouldFire: firing.get('') ?? null, value: null }],
    });
  }
  return answer;
}

/** The level each series (by key) would be firing at `now`, after replaying the history. */
async function replay(
  spec: RuleSpec,
  host: EngineHost,
  samples: readonly PreviewObservation[],
  pushIntervalMs: number,
  now: number,
  series: ReadonlyMap<string, { labels: SeriesLabels; points: [number, number][] }>,
): Promise<Map<string, AlertLevel>> {
  const engine = await AlertEngine.open(memoryStorage(), { now: samples[0]?.ts ?? now });
  await engine.setRules(
    [{ id: PREVIEW_RULE_ID, spec: { ...spec, enabled: true }, updatedAt: 0 }],
    samples[0]?.ts ?? now,
  );
  const condition = spec.condition;
  if (condition.kind === 'forecast' || condition.kind === 'anomaly') {
    for (const s of samples.slice(-1)) {
      await engine.observe(
        { host, samples: [{ ts: s.ts, points: s.points }], custom: [], events: [], pushIntervalMs },
        s.ts,
      );
    }
    for (const [, s] of series) {
      const points = s.points.map(([ts, value]) => ({ ts, value }));
      const observation =
        condition.kind === 'forecast'
          ? evaluateForecast(condition, points, now)
          : evaluateAnomaly(
              condition,
              points.filter((p) => p.ts <= now - condition.windowSeconds * 1000),
              points.filter((p) => p.ts > now - condition.windowSeconds * 1000),
              now,
            );
      await engine.applyScheduled(PREVIEW_RULE_ID, host, s.labels, observation, now);
    }
  } else {
    for (const s of samples) {
      await engine.observe(
        { host, samples: [{ ts: s.ts, points: s.points }], custom: [], events: [], pushIntervalMs },
        s.ts,
      );
    }
    const last = samples.at(-1)?.ts ?? null;
    const silent = last === null || now - last > pushIntervalMs * 2.5;
    await engine.tick(now, silent ? new Map([[host.id, { host, lastSeen: last ?? 0, pushIntervalMs }]]) : new Map());
  }
  const firing = new Map<string, AlertLevel>();
  for (const alert of engine.activeAlerts()) {
    if (alert.state === 'firing' && alert.hostId === host.id) firing.set(alert.series, alert.level);
  }
  return firing;
}
