import type { DatabaseHandle } from '../db/client.ts';
import { log } from '../http/logger.ts';
import type { Chunk } from './chunk-codec.ts';
import { answeringKeys, type HistoryRequest, readSources, readWatermarks } from './query.ts';
import { parseRollupColumnName } from './rollup-chunk.ts';

const DAY_MS = 24 * 3_600_000;

export interface ExportRequest {
  tenantId: string;
  hostId: string;
  series: readonly string[];
  from: number;
  to: number;
  /** Before this, raw points are gone: the export gives 1-minute rollups there. */
  rawKeptFrom: number;
  format: 'csv' | 'ndjson';
}

interface Row {
  ts: number;
  key: string;
  value: number;
  min?: number;
  max?: number;
  count?: number;
}

/** CSV fields are numbers and series keys; a key holds quotes and commas, so it is always quoted. */
const csvField = (key: string) => `"${key.replaceAll('"', '""')}"`;
const num = (value: number | undefined) => (value === undefined ? '' : String(value));

function formatRow(row: Row, format: 'csv' | 'ndjson'): string {
  const time = new Date(row.ts).toISOString();
  if (format === 'ndjson')
    return `${JSON.stringify({ time, series: row.key, ...row, ts: undefined, key: undefined })}\n`;
  return `${time},${csvField(row.key)},${row.value},${num(row.min)},${num(row.max)},${num(row.count)}\n`;
}

function rawRows(chunks: readonly Chunk[], keys: Set<string>, from: number, to: number): Row[] {
  const rows: Row[] = [];
  for (const chunk of chunks) {
    for (const column of chunk.columns) {
      if (!keys.has(column.name)) continue;
      column.values.forEach((value, i) => {
        const ts = chunk.timestamps[i] as number;
        if (!Number.isNaN(value) && ts >= from && ts <= to) rows.push({ ts, key: column.name, value });
      });
    }
  }
  return rows;
}

function rollupRows(chunks: readonly Chunk[], keys: Set<string>, from: number, to: number): Row[] {
  const rows = new Map<string, Row>();
  for (const chunk of chunks) {
    for (const column of chunk.columns) {
      const parsed = parseRollupColumnName(column.name);
      if (!parsed || !keys.has(parsed.key)) continue;
      column.values.forEach((value, i) => {
        const ts = chunk.timestamps[i] as number;
        if (Number.isNaN(value) || ts < from || ts > to) return;
        const id = `${ts} ${parsed.key}`;
        const row = rows.get(id) ?? { ts, key: parsed.key, value: Number.NaN };
        if (parsed.stat === 'avg') row.value = value;
        else row[parsed.stat] = value;
        rows.set(id, row);
      });
    }
  }
  return [...rows.values()].filter((row) => !Number.isNaN(row.value));
}

/**
 * The export as a byte stream, produced a day at a time (each day's chunks read, decoded, written and let go),
 * so memory holds one day of one host's series whatever the range. Rows are oldest first; the database
 * handle is closed when the stream ends or the client goes away.
 */
export function exportRows(handle: DatabaseHandle, request: ExportRequest): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  let day = Math.floor(request.from / DAY_MS) * DAY_MS;
  let watermarks: Awaited<ReturnType<typeof readWatermarks>> | undefined;
  let started = false;
  const close = () => handle.close().catch(() => {});
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        if (!started) {
          started = true;
          watermarks = await readWatermarks(handle.db);
          if (request.format === 'csv') controller.enqueue(encoder.encode('time,series,value,min,max,count\n'));
        }
        // A pull that enqueues nothing is not called again (nothing asks for more while it runs), so days
        // without data are skipped here until one has rows or the range ends: else the stream stalls there.
        for (;;) {
          if (day > request.to) {
            controller.close();
            await close();
            return;
          }
          const from = Math.max(day, request.from);
          const to = Math.min(day + DAY_MS - 1, request.to);
          const rolled = to < request.rawKeptFrom;
          const part: HistoryRequest = {
            tenantId: request.tenantId,
            hostId: request.hostId,
            series: request.series,
            from,
            to: to + 1,
            stepMs: rolled ? 60_000 : 1_000,
            tier: rolled ? '1m' : 'raw',
          };
          const sources = await readSources(handle.db, part, watermarks as NonNullable<typeof watermarks>);
          const keys = new Set(answeringKeys(part, sources));
          const rows = [...rollupRows(sources.rollups, keys, from, to), ...rawRows(sources.raw, keys, from, to)].sort(
            (a, b) => a.ts - b.ts || (a.key < b.key ? -1 : 1),
          );
          day += DAY_MS;
          if (rows.length > 0) {
            controller.enqueue(encoder.encode(rows.map((row) => formatRow(row, request.format)).join('')));
            return;
          }
        }
      } catch (error) {
        log('error', 'history export failed', { error: error instanceof Error ? error.message : String(error) });
        controller.error(error);
        await close();
      }
    },
    async cancel() {
      await close();
    },
  });
}
