import { openDatabase } from '../db/client.ts';
import { type PurgeOptions, type PurgeReport, purgeDeleted } from '../deletion/purge.ts';
import { type Env, parseConfig } from '../env.ts';
import { log } from '../http/logger.ts';

export interface ScheduledReport {
  purge: PurgeReport;
}

/**
 * What the cron trigger runs (wrangler.toml `[triggers]`, every 5 minutes): each job does a bounded amount
 * of work and leaves the rest to the next run. Tests call it directly (or through the Worker's `scheduled`
 * export) to run it on demand.
 */
export async function runScheduledJobs(env: Env, options: { purge?: PurgeOptions } = {}): Promise<ScheduledReport> {
  const handle = openDatabase(parseConfig(env));
  try {
    const purge = await purgeDeleted(handle.db, options.purge);
    if (purge.rowsDeleted > 0 || purge.hostsPurged > 0 || purge.tenantsPurged > 0) {
      log('info', 'purge: deleted hosts and organisations', { ...purge });
    }
    return { purge };
  } catch (error) {
    log('error', 'scheduled jobs failed', { error: error instanceof Error ? error.message : String(error) });
    throw error;
  } finally {
    await handle.close();
  }
}
