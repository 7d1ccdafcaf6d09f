import { DEFAULT_HOSTS_LIMIT, type HostListQuery } from '@pulsewire/protocol';
import { and, asc, eq, ilike, isNull, type SQL, sql } from 'drizzle-orm';
import { z } from 'zod';
import type { Queryable } from '../db/client.ts';
import { hosts } from '../db/schema.ts';
import { HttpError } from '../http/errors.ts';

/** Where a page ends: the last host's (name, id). */
export interface HostPosition {
  name: string;
  id: string;
}

const Position = z.tuple([z.string().max(300), z.uuid()]);

export function encodeHostCursor(position: HostPosition): string {
  const bytes = new TextEncoder().encode(JSON.stringify([position.name, position.id]));
  return btoa(String.fromCharCode(...bytes))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '');
}

export function decodeHostCursor(cursor: string): HostPosition {
  try {
    const binary = atob(cursor.replace(/-/g, '+').replace(/_/g, '/'));
    const text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(
      Uint8Array.from(binary, (ch) => ch.charCodeAt(0)),
    );
    const [name, id] = Position.parse(JSON.parse(text));
    return { name, id };
  } catch {
    throw new HttpError(422, 'validation_failed', 'query.cursor: not a cursor from a previous page', {
      path: 'query.cursor',
    });
  }
}

/** `q` as an ILIKE pattern that matches it literally anywhere in the name. */
function containsPattern(q: string): string {
  return `%${q.replace(/[\\%_]/g, (ch) => `\\${ch}`)}%`;
}

/**
 * One page of the organisation's hosts (not deleted) in (name, id) order, after the cursor's position,
 * optionally only names containing `q`. Asks for one row more than `limit`, so the caller knows whether
 * there is a next page. Walks `hosts_tenant_name_id_idx` from the position: no page reads the ones before it.
 */
export function hostPageSelect(database: Queryable, tenantId: string, query: HostListQuery) {
  const limit = query.limit ?? DEFAULT_HOSTS_LIMIT;
  const after = query.cursor ? decodeHostCursor(query.cursor) : undefined;
  const filters: (SQL | undefined)[] = [
    eq(hosts.tenantId, tenantId),
    isNull(hosts.deletedAt),
    after ? sql`(${hosts.name}, ${hosts.id}) > (${after.name}, ${after.id}::uuid)` : undefined,
    query.q ? ilike(hosts.name, containsPattern(query.q)) : undefined,
  ];
  return database
    .select()
    .from(hosts)
    .where(and(...filters))
    .orderBy(asc(hosts.name), asc(hosts.id))
    .limit(limit + 1);
}

/** The page and the cursor of the next one (null on the last page). */
export async function hostPage(database: Queryable, tenantId: string, query: HostListQuery) {
  const limit = query.limit ?? DEFAULT_HOSTS_LIMIT;
  const rows = await hostPageSelect(database, tenantId, query);
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return { rows: page, nextCursor: rows.length > limit && last ? encodeHostCursor(last) : null };
}
