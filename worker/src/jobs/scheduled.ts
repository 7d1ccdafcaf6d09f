import { openDatabase } from '../db/client.ts';
import { type PurgeOptions, type PurgeReport, purgeDeleted } from '../deletion/purge.ts';
import { type Env, parseConfig } from '../env.ts';
import { type HistoryJobOptions, type HistoryJobReport, runHistoryJobs } from '../history/jobs.ts';
import { log } from '../http/logger.ts';

export interface ScheduledReport {
  purge: PurgeReport;
  history: HistoryJobReport;
}

/**
 * What the cron trigger runs (wrangler.toml `[triggers]`, every 5 minutes): each job does a bounded amount
 * of work and leaves the rest to the next run. Tests call it directly (or through the Worker's `scheduled`
 * export) to run it on demand.
 */
export async function runScheduledJobs(
  env: Env,
  options: { purge?: PurgeOptions; history?: HistoryJobOptions } = {},
): Promise<ScheduledReport> {
  const handle = openDatabase(parseConfig(env));
  try {
    const purge = await purgeDeleted(handle.db, options.purge);
    if (purge.rowsDeleted > 0 || purge.hostsPurged > 0 || purge.tenantsPurged > 0) {
      log('info', 'purge: deleted hosts and organisations', { ...purge });
    }
    // History after the purge, so that a deleted host's rows are not compacted on their way out.
    const history = await runHistoryJobs(handle.db, options.history);
    const worked = history.hoursCompacted + history.hoursRolledUp + history.lateMerged + history.daysFolded > 0;
    if (worked || history.behind) {
      const { retention: _retention, partitionsCreated: _created, ...figures } = history;
      log('info', 'history: compacted, rolled up and folded', { ...figures });
    }
    return { purge, history };
  } catch (error) {
    log('error', 'scheduled jobs failed', { error: error instanceof Error ? error.message : String(error) });
    throw error;
  } finally {
    await handle.close();
  }
}
