import dgram from 'node:dgram';
import type { Labels, MetricKind } from '@pulsewire/protocol';
import type { Logger } from '../log.ts';
import type { IntakeBuffer, Observation } from './aggregator.ts';

const TYPES: Record<string, MetricKind> = {
  c: 'counter',
  g: 'gauge',
  ms: 'histogram',
  h: 'histogram',
  d: 'histogram',
  s: 'set',
};

/** Tag keys become label keys: characters the protocol does not allow turn into `_`. */
function tagsToLabels(tags: string): Labels | undefined {
  const labels: Labels = {};
  let count = 0;
  for (const tag of tags.split(',')) {
    if (!tag || count >= 32) continue;
    const colon = tag.indexOf(':');
    const rawKey = colon < 0 ? tag : tag.slice(0, colon);
    const key = rawKey
      .replace(/[^A-Za-z0-9_.:-]/g, '_')
      .replace(/^[^A-Za-z_]/, '_')
      .slice(0, 64);
    if (!key) continue;
    labels[key] = colon < 0 ? '' : tag.slice(colon + 1).slice(0, 200);
    count++;
  }
  return count > 0 ? labels : undefined;
}

/**
 * Parses one StatsD line (Etsy StatsD plus DogStatsD extensions):
 * `name:value|type[|@rate][|#tag:value,tag]`, types c, g (±relative), ms, h, d, s, and packed values
 * `name:1:2:3|h`. Returns undefined for a line it cannot read.
 */
export function parseStatsdLine(line: string): Observation[] | undefined {
  const [head, typeField, ...extras] = line.trim().split('|');
  if (!head || !typeField) return undefined;
  const colon = head.indexOf(':');
  if (colon <= 0) return undefined;
  const name = head.slice(0, colon);
  const kind = TYPES[typeField];
  if (!kind) return undefined;
  let sampleRate: number | undefined;
  let labels: Labels | undefined;
  for (const extra of extras) {
    if (extra.startsWith('@')) sampleRate = Number(extra.slice(1));
    else if (extra.startsWith('#')) labels = tagsToLabels(extra.slice(1));
  }
  if (sampleRate !== undefined && !(sampleRate > 0 && sampleRate <= 1)) return undefined;
  const observations: Observation[] = [];
  for (const raw of head.slice(colon + 1).split(':')) {
    if (raw === '') return undefined;
    if (kind !== 'set' && !Number.isFinite(Number(raw))) return undefined;
    observations.push({
      name,
      kind,
      value: kind === 'set' ? raw : Number(raw),
      ...(labels ? { labels } : {}),
      ...(sampleRate !== undefined ? { sampleRate } : {}),
      ...(kind === 'gauge' && /^[+-]/.test(raw) ? { relative: true } : {}),
    });
  }
  return observations;
}

export interface StatsdListener {
  port: number;
  /** Lines received and lines refused, since start. */
  readonly stats: { lines: number; refused: number };
  close(): Promise<void>;
}

/** UDP StatsD listener (localhost by default) feeding the intake buffer. */
export async function startStatsd(
  buffer: IntakeBuffer,
  log: Logger,
  options: { host: string; port: number },
): Promise<StatsdListener> {
  const socket = dgram.createSocket(options.host.includes(':') ? 'udp6' : 'udp4');
  const stats = { lines: 0, refused: 0 };
  socket.on('message', (message) => {
    for (const line of message.toString('utf8').split('\n')) {
      if (!line.trim()) continue;
      stats.lines++;
      const observations = parseStatsdLine(line);
      const accepted = observations?.every((obs) => buffer.observe(obs)) ?? false;
      if (!accepted) {
        stats.refused++;
        log.once(`statsd-refused`, 'warn', 'statsd: refused a line (logged once)', { line: line.slice(0, 200) });
      }
    }
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(options.port, options.host, () => {
      socket.off('error', reject);
      resolve();
    });
  });
  socket.on('error', (error) => log.warn(`statsd socket error: ${error.message}`));
  return {
    port: socket.address().port,
    stats,
    close: () => new Promise((resolve) => socket.close(() => resolve())),
  };
}
