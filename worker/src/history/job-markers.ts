import { eq } from 'drizzle-orm';
import type { Queryable } from '../db/queryable.ts';
import { historyJobs } from '../db/schema.ts';

/**
 * A marker row in `history_jobs` (a name, no watermark) that a migration leaves where stored chunks need work
 * only the Worker's codec can do: the jobs do it a bounded amount per run while the marker is there, and drop
 * it once nothing is left.
 */
export async function hasJobMarker(database: Queryable, name: string): Promise<boolean> {
  const rows = await database.select({ name: historyJobs.name }).from(historyJobs).where(eq(historyJobs.name, name));
  return rows.length > 0;
}

export async function dropJobMarker(database: Queryable, name: string): Promise<void> {
  await database.delete(historyJobs).where(eq(historyJobs.name, name));
}
