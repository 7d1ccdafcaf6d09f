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
 * How the landing read fetches `sections`' fields: per object section a json array of its fields (`sample ->
 * section -> field`), per list section a json array of each element's fields as an array (json, not jsonb:
 * Postgres writes it out as it builds it). Postgres builds no object per row, which was most of the
 * query's time (on PGlite, 180 rows: ~6.5 ms → ~4 ms, of which ~2.7 ms is detoasting the samples), and the
 * driver parses small values. `cut` turns a row back into the sample cut down to those fields (what
 * `samplePoints` reads): absent and null fields are left out, and so are list sections that are not arrays,
 * and object sections without any of the fields.
 */
export interface LandingColumns {
  /** The columns' names: `f0`, `f1`, …, a json value each. */
  columns: string[];
  /** The columns' select expressions over `sample`, a jsonb sample detoasted once by the caller. */
  select(sample: SQL): SQL[];
  cut(row: Readonly<Record<string, unknown>>): Omit<Sample, 'ts'>;
}

export function landingColumns(sections: Map<SampleFields['section'], SampleFields>): LandingColumns {
  const read = [...sections.values()].map((section, i) => ({ ...section, column: `f${i}` }));
  return {
    columns: read.map(({ column }) => column),
    select(sample) {
      return read.map(({ section, list: isList, fields, column }) => {
        if (!isList) {
          const values = fields.map((field) => sql`${sample} -> ${section}::text -> ${field}::text`);
          return sql`json_build_array(${sql.join(values, sql`, `)}) AS ${sql.identifier(column)}`;
        }
        const values = fields.map((field) => sql`e -> ${field}::text`);
        return sql`CASE WHEN jsonb_typeof(${sample} -> ${section}::text) = 'array' THEN
            (SELECT json_agg(json_build_array(${sql.join(values, sql`, `)}))
             FROM jsonb_array_elements(${sample} -> ${section}::text) AS e) END AS ${sql.identifier(column)}`;
      });
    },
    cut(row) {
      const out: Record<string, unknown> = {};
      for (const { section, list: isList, fields, column } of read) {
        const value = row[column] as unknown[] | null | undefined;
        if (!Array.isArray(value)) continue;
        if (isList) {
          out[section] = value.map((element) => picked(fields, element as unknown[]));
        } else {
          const object = picked(fields, value);
          if (Object.keys(object).length > 0) out[section] = object;
        }
      }
      return out as Omit<Sample, 'ts'>;
    },
  };
}

/** The fields with a value (not null) as an object. */
function picked(fields: readonly string[], values: readonly unknown[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (let i = 0; i < fields.length; i++) {
    const value = values[i];
    if (value !== null && value !== undefined) out[fields[i] as string] = value;
  }
  return out;
}

/** The row the select above gives for `sample`, in JavaScript: for the tests to check the table and `cut`. */
export function landingRow(
  sample: Sample,
  sections: Map<SampleFields['section'], SampleFields>,
): Record<string, unknown> {
  const row: Record<string, unknown> = {};
  [...sections.values()].forEach(({ section, list: isList, fields }, i) => {
    const value = sample[section] as unknown;
    const field = (from: unknown, name: string) =>
      from !== null && typeof from === 'object' && !Array.isArray(from)
        ? ((from as Record<string, unknown>)[name] ?? null)
        : null;
    if (!isList) row[`f${i}`] = fields.map((name) => field(value, name));
    else if (Array.isArray(value)) {
      row[`f${i}`] = value.length === 0 ? null : value.map((element) => fields.map((name) => field(element, name)));
    } else row[`f${i}`] = null;
  });
  return row;
}
