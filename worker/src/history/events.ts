import type { AppEvent } from '@pulsewire/protocol';
import { and, between, desc, eq } from 'drizzle-orm';
import type { Queryable } from '../db/client.ts';
import { appEvents } from '../db/schema.ts';
import type { TimeRange } from './range.ts';

export interface EventsRequest extends TimeRange {
  tenantId: string;
  hostId: string;
  kind?: string | undefined;
  /** One subject's events only (a job's id): its timeline. */
  subject?: string | undefined;
  limit: number;
}

/** Application events of one host in [from, to], newest first, at most `limit`; optionally of one kind or subject. */
export async function hostEvents(database: Queryable, request: EventsRequest): Promise<AppEvent[]> {
  const { tenantId, hostId, from, to, kind, subject, limit } = request;
  const rows = await database
    .select()
    .from(appEvents)
    .where(
      and(
        eq(appEvents.hostId, hostId),
        eq(appEvents.tenantId, tenantId),
        between(appEvents.ts, from, to),
        kind ? eq(appEvents.kind, kind) : undefined,
        subject ? eq(appEvents.subjectId, subject) : undefined,
      ),
    )
    .orderBy(desc(appEvents.ts), desc(appEvents.id))
    .limit(limit);
  return rows.map((row) => ({
    ts: row.ts.getTime(),
    kind: row.kind,
    id: row.subjectId ?? '',
    ...(row.name !== null ? { name: row.name } : {}),
    ...(row.progress !== null ? { progress: row.progress } : {}),
    ...(row.message !== null ? { message: row.message } : {}),
    ...(Object.keys(row.labels).length > 0 ? { labels: row.labels } : {}),
  }));
}
