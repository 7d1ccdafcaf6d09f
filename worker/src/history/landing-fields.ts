import type { Sample } from '@pulsewire/protocol';
import { type SQL, sql } from 'drizzle-orm';
import { seriesPath } from './series-key.ts';

/**
 * The fields of a landing row's jsonb sample that each collected metric is computed from (`samplePoints`):
 * a chart of the open hour reads these and nothing else. Postgres builds the jsonb it sends and the driver
 * parses it, number by number; a whole `cpu`, `memory` and `net` section is ~60 numbers a sample where a chart
 * of `cpu.total`, `memory.used_pct` and `net.rx` needs ~7. A list section (`net`, `disks`, ...) keeps, per
 * element, the label field that tells the series apart and the value fields.
 */
interface SampleFields {
  section: keyof Omit<Sample, 'ts'>;
  /** The section is a list of elements (one series each), not an object. */
  list: boolean;
  fields: readonly string[];
}

const object = (section: SampleFields['section'], ...fields: string[]): SampleFields => ({
  section,
  list: false,
  fields,
});
const list = (section: SampleFields['section'], ...fields: string[]): SampleFields => ({ section, list: true, fields });

/** Per metric path: what `samplePoints` reads to give it. A test checks every path of the catalog against it. */
export const METRIC_SAMPLE_FIELDS: Readonly<Record<string, SampleFields>> = {
  'cpu.total': object('cpu', 'total'),
  'cpu.user': object('cpu', 'user'),
  'cpu.system': object('cpu', 'system'),
  'cpu.iowait': object('cpu', 'iowait'),
  'cpu.steal': object('cpu', 'steal'),
  'load.1': object('load', '1'),
  'load.5': object('load', '5'),
  'load.15': object('load', '15'),
  'memory.used_pct': object('memory', 'total', 'available'),
  'memory.used': object('memory', 'used'),
  'memory.available': object('memory', 'available'),
  'swap.used_pct': object('memory', 'swapTotal', 'swapUsed'),
  'disk.used_pct': list('disks', 'mount', 'usedPct'),
  'disk.used': list('disks', 'mount', 'used'),
  'disk.free': list('disks', 'mount', 'size', 'used'),
  'disk_io.read': object('diskIo', 'readBytesPerSec'),
  'disk_io.write': object('diskIo', 'writeBytesPerSec'),
  'disk_io.read_ops': object('diskIo', 'readOpsPerSec'),
  'disk_io.write_ops': object('diskIo', 'writeOpsPerSec'),
  'net.rx': list('net', 'iface', 'rxBytesPerSec'),
  'net.tx': list('net', 'iface', 'txBytesPerSec'),
  'net.rx_errors': list('net', 'iface', 'rxErrors'),
  'net.tx_errors': list('net', 'iface', 'txErrors'),
  'gpu.util_pct': list('gpus', 'index', 'utilPct'),
  'gpu.mem_used_pct': list('gpus', 'index', 'memUsed', 'memTotal'),
  'gpu.temp': list('gpus', 'index', 'tempC'),
  'gpu.power': list('gpus', 'index', 'powerW'),
  'container.cpu_pct': list('containers', 'name', 'cpuPct'),
  'container.mem_used': list('containers', 'name', 'memUsed'),
  'container.mem_pct': list('containers', 'name', 'memUsed', 'memLimit'),
  'container.running': list('containers', 'name', 'state'),
  'processes.total': object('processes', 'total'),
  'processes.blocked': object('processes', 'blocked'),
  temp: list('temps', 'label', 'c'),
  'agent.cpu_pct': object('agent', 'cpuPct'),
  'agent.rss': object('agent', 'rssBytes'),
  'agent.spool_depth': object('agent', 'spoolDepth'),
};

/** The sections and, in each, the fields the asked series (keys or metric paths) are computed from. */
export function sampleFieldsOf(series: readonly string[]): Map<SampleFields['section'], SampleFields> {
  const sections = new Map<SampleFields['section'], SampleFields>();
  for (const name of series) {
    const wanted = METRIC_SAMPLE_FIELDS[seriesPath(name)];
    if (!wanted) continue;
    const known = sections.get(wanted.section);
    const fields = [...new Set([...(known?.fields ?? []), ...wanted.fields])];
    sections.set(wanted.section, { ...wanted, fields });
  }
  return sections;
}

/**
 * `sample` (a jsonb sample, detoasted once by the caller) cut down to `sections`' fields, as a jsonb
 * expression; absent sections and fields are left out (jsonb_strip_nulls), as in the whole sample.
 */
export function projectedSample(sample: SQL, sections: Map<SampleFields['section'], SampleFields>): SQL {
  const pairs = (from: SQL, fields: readonly string[]) =>
    sql.join(
      fields.map((field) => sql`${field}::text, ${from} -> ${field}::text`),
      sql`, `,
    );
  const parts = [...sections.values()].map(({ section, list: isList, fields }) => {
    const value = isList
      ? sql`(SELECT jsonb_agg(jsonb_build_object(${pairs(sql`e`, fields)})) FROM jsonb_array_elements(${sample} -> ${section}::text) AS e)`
      : sql`jsonb_build_object(${pairs(sql`(${sample} -> ${section}::text)`, fields)})`;
    return sql`${section}::text, CASE WHEN jsonb_typeof(${sample} -> ${section}::text) = ${isList ? 'array' : 'object'} THEN ${value} END`;
  });
  return sql`jsonb_strip_nulls(jsonb_build_object(${sql.join(parts, sql`, `)}))`;
}

/** The same cut in JavaScript: what the SQL above gives, for the tests to check the table against. */
export function projectSample(sample: Sample, sections: Map<SampleFields['section'], SampleFields>): Sample {
  const pick = (from: Record<string, unknown>, fields: readonly string[]) =>
    Object.fromEntries(fields.filter((f) => from[f] !== undefined && from[f] !== null).map((f) => [f, from[f]]));
  const out: Record<string, unknown> = { ts: sample.ts };
  for (const { section, list: isList, fields } of sections.values()) {
    const value = sample[section] as unknown;
    if (value === undefined || value === null) continue;
    out[section] = isList
      ? (value as Record<string, unknown>[]).map((element) => pick(element, fields))
      : pick(value as Record<string, unknown>, fields);
  }
  return out as unknown as Sample;
}
