/**
 * `storage`: bytes per host per day by tier, from Postgres' own relation sizes (pg_total_relation_size of every
 * partition: heap, indexes, TOAST, maps), for the synthetic reference host at 10 s, against today's layout
 * (a jsonb row per sample) holding the same samples, in the same database.
 *
 * Per database: `hosts` × `days` of history. The first `landingHours` of every host go the real way: landing
 * rows as ingest writes them (measured: the landing tables' share), compacted by the Worker's compactHostHour,
 * their partitions then dropped as retention does. The rest is raw chunks through writeRawChunks, and every
 * day is rolled up by rollUpHostHour and its raw hours folded into a chunk per day by foldHostDay. A second database gets the first one's chunks byte for byte (copied, not
 * generated again) but its own landing rows and compaction.
 */
import { openSqlSession, type ScratchDatabase, type SqlSession } from '@pulsewire/stack';
import { compactHostHour } from '../../worker/src/history/compaction.ts';
import {
  CHUNK_TABLES,
  dropPartitionsBefore,
  ensurePartitions,
  LANDING_TABLES,
} from '../../worker/src/history/partitions.ts';
import { DEFAULT_RETENTION_DAYS, LANDING_KEEP_MS } from '../../worker/src/history/retention.ts';
import { DAY_MS, monthOf } from '../../worker/src/history/rollup-job.ts';
import type { DatabaseTarget } from './databases.ts';
import {
  type BenchTenant,
  benchTenant,
  copyChunks,
  foldDays,
  type Generated,
  HOUR_MS,
  insertLanding,
  insertTenant,
  queryable,
  rollUpHours,
  writeRawHours,
} from './history-data.ts';
import { BASELINE_CUSTOM, BASELINE_SAMPLES, createBaselineTables, fillBaseline } from './jsonb-baseline.ts';
import {
  payloadByFamily,
  payloadBytes,
  type RelationSize,
  relationSizes,
  type SizeTotals,
  sumSizes,
  vacuum,
} from './relation-sizes.ts';
import { type StorageFigures, storageFigures, TIERS, type Tier } from './storage-figures.ts';

export interface StorageOptions {
  hosts: number;
  days: number;
  /** Hours per host through landing rows and compactHostHour (the rest: writeRawChunks). */
  landingHours: number;
  log: (line: string) => void;
}

export interface StorageRun {
  database: string;
  hosts: number;
  days: number;
  landingHours: number;
  series: number;
  valuesPerHostDay: number;
  figures: StorageFigures;
  sizes: Record<Tier | 'landing' | 'baseline', SizeTotals>;
  /** Per tier: the chunks' rows and payload bytes per host per day (the codec's output, without Postgres' overhead). */
  payloadPerHostDay: Record<Tier, { rows: number; bytes: number; byFamily: Record<string, number> }>;
  relations: Record<Tier | 'landing' | 'baseline', RelationSize[]>;
  /** How the chunks got there: generated here, or copied from the database named. */
  chunksFrom: string;
  seconds: Record<'landing' | 'compaction' | 'chunks' | 'rollups' | 'folds' | 'baseline', number>;
}

/** A Monday: the synthetic host is quieter at weekends. */
const DAY0 = Date.UTC(2026, 2, 2);
/** The landing rows a host has at any time: the hours kept after compaction for late batches, and the open one. */
const LANDING_WINDOW_HOURS = LANDING_KEEP_MS / HOUR_MS + 1;

const seconds = (since: number) => Math.round((performance.now() - since) / 100) / 10;

async function sizesOf(session: SqlSession, tables: readonly string[]): Promise<RelationSize[]> {
  await vacuum(session, tables);
  const sizes: RelationSize[] = [];
  for (const table of tables) sizes.push(...(await relationSizes(session, table)));
  return sizes;
}

interface Source {
  session: SqlSession;
  label: string;
  generated: Generated;
}

async function measure(
  database: ScratchDatabase,
  session: SqlSession,
  tenant: BenchTenant,
  options: StorageOptions,
  source: Source | null,
): Promise<{ run: StorageRun; generated: Generated }> {
  const { hosts, days, landingHours, log } = options;
  const db = queryable(session);
  const end = DAY0 + days * DAY_MS;
  const landingEnd = DAY0 + landingHours * HOUR_MS;
  await insertTenant(session, tenant);

  const landingStarted = performance.now();
  let started = landingStarted;
  for (const host of tenant.hosts) await insertLanding(session, tenant.tenantId, host, DAY0, landingEnd);
  const landing = await sizesOf(
    session,
    LANDING_TABLES.map((t) => t.name),
  );
  const landingSeconds = seconds(started);

  started = performance.now();
  await ensurePartitions(db, CHUNK_TABLES.raw, DAY0, landingEnd);
  for (const host of tenant.hosts) {
    for (let hour = DAY0; hour < landingEnd; hour += HOUR_MS) {
      await compactHostHour(db, { tenantId: tenant.tenantId, hostId: host.id, hour });
    }
  }
  const compactionSeconds = seconds(started);
  log(`  ${hosts} hosts × ${landingHours} h through landing rows and compactHostHour (${seconds(landingStarted)} s)`);

  started = performance.now();
  let generated: Generated = { values: 0, series: new Set() };
  if (source) {
    // From the first day's start: its day chunk (folded there) holds this database's compacted hours too.
    const rows = await copyChunks(source.session, session, 'raw', DAY0, end);
    generated = source.generated;
    log(`  ${rows} raw chunks copied from ${source.label}`);
  } else {
    for (const host of tenant.hosts) {
      await writeRawHours(session, tenant.tenantId, host, landingEnd, end, generated);
      log(`  host ${host.seed}: ${days} days of raw chunks`);
    }
  }
  const chunkSeconds = seconds(started);

  started = performance.now();
  if (source) {
    await copyChunks(source.session, session, '1m', DAY0, end);
    await copyChunks(source.session, session, '15m', DAY0, end);
    await copyChunks(source.session, session, '1h', monthOf(DAY0), end);
  } else {
    for (const host of tenant.hosts) await rollUpHours(session, tenant.tenantId, host, DAY0, end);
  }
  const rollupSeconds = seconds(started);
  // Every day is closed: its raw hours folded into a chunk per family and day, as the jobs leave it (a copied
  // day is one already; the first day's own compacted hours go into it, points equal).
  started = performance.now();
  await foldDays(session, tenant, DAY0, end);
  const foldSeconds = seconds(started);
  log(`  raw chunks ${chunkSeconds} s, roll-ups ${rollupSeconds} s, folds ${foldSeconds} s`);

  // Retention drops a landing hour's partitions a few hours after its compaction.
  for (const table of LANDING_TABLES) await dropPartitionsBefore(db, table, landingEnd);
  const tiers = {} as Record<Tier, Awaited<ReturnType<typeof sizesOf>>>;
  for (const tier of TIERS) tiers[tier] = await sizesOf(session, [CHUNK_TABLES[tier].name]);

  started = performance.now();
  await createBaselineTables(session);
  const [first] = tenant.hosts;
  if (!first) throw new Error('no hosts');
  const baselineFill = await fillBaseline(session, tenant.tenantId, first, DAY0, DAY0 + DAY_MS);
  const baseline = await sizesOf(session, [BASELINE_SAMPLES, BASELINE_CUSTOM]);
  const baselineSeconds = seconds(started);

  const payloadPerHostDay = {} as StorageRun['payloadPerHostDay'];
  for (const tier of TIERS) {
    const perHostDay = (bytes: number) => Math.round(bytes / (hosts * days));
    const payload = await payloadBytes(session, CHUNK_TABLES[tier].name);
    const byFamily = await payloadByFamily(session, CHUNK_TABLES[tier].name);
    payloadPerHostDay[tier] = {
      rows: payload.rows / (hosts * days),
      bytes: perHostDay(payload.bytes),
      byFamily: Object.fromEntries(Object.entries(byFamily).map(([family, bytes]) => [family, perHostDay(bytes)])),
    };
  }
  const bulkHostHours = hosts * (days * 24 - landingHours);
  const valuesPerHostDay = (generated.values / bulkHostHours) * 24;
  const sizes = { landing: sumSizes(landing), baseline: sumSizes(baseline) } as StorageRun['sizes'];
  for (const tier of TIERS) sizes[tier] = sumSizes(tiers[tier]);
  const tierRelations = TIERS.flatMap((tier) => tiers[tier]);
  const fixedBytes =
    sumSizes(tierRelations).maps +
    sumSizes(tierRelations.filter((relation) => relation.relation.endsWith('_default'))).total;
  const figures = storageFigures({
    tiers: sizes,
    fixedBytes,
    hostDays: hosts * days,
    valuesPerHostDay,
    landing: sizes.landing,
    landingHostHours: hosts * landingHours,
    landingWindowHours: LANDING_WINDOW_HOURS,
    baseline: sizes.baseline,
    baselineHostDays: 1,
    baselineValuesPerHostDay: baselineFill.values,
    retentionDays: {
      raw: DEFAULT_RETENTION_DAYS.raw,
      '1m': DEFAULT_RETENTION_DAYS['1m'],
      // Kept as long as the 1-minute tier (worker/src/history/retention.ts).
      '15m': DEFAULT_RETENTION_DAYS['1m'],
      '1h': DEFAULT_RETENTION_DAYS['1h'],
    },
  });
  return {
    generated,
    run: {
      database: database.label,
      hosts,
      days,
      landingHours,
      series: generated.series.size,
      valuesPerHostDay: Math.round(valuesPerHostDay),
      figures,
      sizes,
      payloadPerHostDay,
      relations: { ...tiers, landing, baseline },
      chunksFrom: source ? `copied from ${source.label}` : 'generated',
      seconds: {
        landing: landingSeconds,
        compaction: compactionSeconds,
        chunks: chunkSeconds,
        rollups: rollupSeconds,
        folds: foldSeconds,
        baseline: baselineSeconds,
      },
    },
  };
}

/** The storage benchmark on each database in turn; the first one's chunks are copied into the next. */
export async function runStorage(targets: readonly DatabaseTarget[], options: StorageOptions): Promise<StorageRun[]> {
  if (options.landingHours >= options.days * 24) throw new Error('--landing-hours must leave some hours to the bulk');
  const tenant = benchTenant(options.hosts);
  const runs: StorageRun[] = [];
  const opened: { database: ScratchDatabase; session: SqlSession }[] = [];
  let source: Source | null = null;
  try {
    for (const target of targets) {
      const database = await target.start();
      const session = await openSqlSession(database.url).catch(async (error: unknown) => {
        await database.stop();
        throw error;
      });
      opened.push({ database, session });
      options.log(`› storage on ${database.label}: ${options.hosts} hosts × ${options.days} days at 10 s`);
      const { run, generated } = await measure(database, session, tenant, options, source);
      runs.push(run);
      source ??= { session, label: database.label, generated };
    }
  } finally {
    for (const { database, session } of opened.reverse()) {
      await session.end().catch(() => {});
      await database.stop();
    }
  }
  return runs;
}
