import { MAX_SILENCES_PER_ORG, Silence, SilenceInput, SilenceList } from '@pulsewire/protocol';
import { and, desc, eq, gt, type SQL, sql } from 'drizzle-orm';
import type { z } from 'zod';
import { caller, requireCaller, sessionCaller } from '../auth/caller.ts';
import type { Queryable } from '../db/client.ts';
import { silences, users } from '../db/schema.ts';
import { db } from '../http/database.ts';
import { notFound } from '../http/errors.ts';
import { jsonRoute, router } from '../http/route.ts';
import { alertConfigChanged } from './alert-config.ts';
import { ensureRoom } from './alert-limits.ts';
import { IdParam } from './params.ts';

const tags = ['silences'];
/** Counted against the limit: silences that have not ended. Expired ones stay listed this long. */
const SILENCE_LIMIT = { max: MAX_SILENCES_PER_ORG, code: 'too_many_silences', noun: 'current silences' };
const EXPIRED_LISTED_FOR = '7 days';
const MAX_LISTED = 1000;

function silencesQuery(database: Queryable, where: SQL | undefined) {
  return database
    .select({ silence: silences, creatorName: users.name, creatorEmail: users.email })
    .from(silences)
    .leftJoin(users, eq(users.id, silences.createdBy))
    .where(where);
}

type SilenceRow = Awaited<ReturnType<typeof silencesQuery>>[number];

function presentSilence({ silence: s, creatorName, creatorEmail }: SilenceRow, now: number): z.infer<typeof Silence> {
  const state = now < s.startsAt.getTime() ? 'pending' : now < s.endsAt.getTime() ? 'active' : 'expired';
  return {
    id: s.id,
    matchers: s.matchers,
    startsAt: s.startsAt.toISOString(),
    endsAt: s.endsAt.toISOString(),
    comment: s.comment,
    createdBy: creatorName ?? creatorEmail ?? null,
    createdAt: s.createdAt.toISOString(),
    state,
  };
}

async function ownSilence(database: Queryable, tenantId: string, id: string): Promise<SilenceRow> {
  const [row] = await silencesQuery(database, and(eq(silences.id, id), eq(silences.tenantId, tenantId))).limit(1);
  if (!row) throw notFound('No such silence');
  return row;
}

export const silenceRoutes = router()
  .openapi(
    jsonRoute({
      method: 'get',
      path: '/silences',
      summary: `Silences: pending and active ones, and those that ended in the last ${EXPIRED_LISTED_FOR}, newest first`,
      tags,
      response: SilenceList,
      status: 200,
      middleware: [requireCaller('viewer')],
    }),
    async (c) => {
      const rows = await silencesQuery(
        db(c),
        and(
          eq(silences.tenantId, caller(c).tenantId),
          sql`${silences.endsAt} > now() - ${EXPIRED_LISTED_FOR}::interval`,
        ),
      )
        .orderBy(desc(silences.createdAt), desc(silences.id))
        .limit(MAX_LISTED);
      const now = Date.now();
      return c.json({ silences: rows.map((r) => presentSilence(r, now)) }, 200);
    },
  )
  .openapi(
    jsonRoute({
      method: 'post',
      path: '/silences',
      summary: `Silence matching alerts from \`startsAt\` (default now) to \`endsAt\`: still recorded and shown, notified to nobody (at most ${MAX_SILENCES_PER_ORG} current)`,
      tags,
      body: SilenceInput,
      response: Silence,
      status: 201,
      conflict: '`too_many_silences`: the organisation has the most current silences it may have',
      middleware: [requireCaller('admin')],
    }),
    async (c) => {
      const input = c.req.valid('json');
      const who = sessionCaller(c);
      const id = await db(c).transaction(async (tx) => {
        await ensureRoom(tx, who.tenantId, SILENCE_LIMIT, () =>
          tx.$count(silences, and(eq(silences.tenantId, who.tenantId), gt(silences.endsAt, new Date()))),
        );
        const [inserted] = await tx
          .insert(silences)
          .values({
            tenantId: who.tenantId,
            matchers: input.matchers,
            startsAt: input.startsAt ? new Date(input.startsAt) : new Date(),
            endsAt: new Date(input.endsAt),
            comment: input.comment,
            createdBy: who.userId,
          })
          .returning({ id: silences.id });
        return inserted?.id;
      });
      if (!id) throw new Error('silence insert returned nothing');
      await alertConfigChanged(c, who.tenantId);
      return c.json(presentSilence(await ownSilence(db(c), who.tenantId, id), Date.now()), 201);
    },
  )
  .openapi(
    jsonRoute({
      method: 'delete',
      path: '/silences/{id}',
      summary: 'Expire a silence now (it stays listed as expired); expiring an expired one changes nothing',
      tags,
      params: IdParam,
      response: Silence,
      status: 200,
      middleware: [requireCaller('admin')],
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const tenantId = caller(c).tenantId;
      const database = db(c);
      const now = new Date();
      const [expired] = await database
        .update(silences)
        .set({ endsAt: now, startsAt: sql`least(${silences.startsAt}, ${now.toISOString()}::timestamptz)` })
        .where(and(eq(silences.id, id), eq(silences.tenantId, tenantId), gt(silences.endsAt, now)))
        .returning({ id: silences.id });
      const row = await ownSilence(database, tenantId, id);
      if (expired) await alertConfigChanged(c, tenantId);
      return c.json(presentSilence(row, now.getTime()), 200);
    },
  );
