import { sql } from 'drizzle-orm';
import type { Transaction } from '../db/client.ts';
import { tenants } from '../db/schema.ts';
import { HttpError } from '../http/errors.ts';

export interface Limit {
  max: number;
  code: string;
  /** Plural noun for the message: "rules". */
  noun: string;
}

/**
 * Refuses with 409 `limit.code` when the organisation already has `limit.max` of something. Counting
 * then inserting races (two requests at 499 would both add the 500th), so writers of one
 * organisation take its row lock first, in their transaction. `FOR NO KEY UPDATE` does not block the
 * key-share locks that inserts referencing the tenant take (ingest keeps flowing).
 */
export async function ensureRoom(
  tx: Transaction,
  tenantId: string,
  limit: Limit,
  count: () => Promise<number>,
): Promise<void> {
  await tx.execute(sql`SELECT 1 FROM ${tenants} WHERE ${tenants.id} = ${tenantId} FOR NO KEY UPDATE`);
  if ((await count()) >= limit.max) {
    throw new HttpError(409, limit.code, `An organisation can have at most ${limit.max} ${limit.noun}`);
  }
}
