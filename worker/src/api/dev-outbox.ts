import { OutboxList } from '@pulsewire/protocol';
import { desc } from 'drizzle-orm';
import { devOutbox } from '../db/schema.ts';
import { parseConfig } from '../env.ts';
import { db } from '../http/database.ts';
import { notFound } from '../http/errors.ts';
import { jsonRoute, router } from '../http/route.ts';

/**
 * Local mode only: the mail that would have been sent, newest first. It holds every account's
 * links, so outside local mode the route does not exist at all.
 */
export const devOutboxRoutes = router().openapi(
  jsonRoute({
    method: 'get',
    path: '/dev/outbox',
    summary: 'Local mode only: mail that would have been sent',
    tags: ['local'],
    response: OutboxList,
    status: 200,
  }),
  async (c) => {
    if (parseConfig(c.env).PULSEWIRE_MODE !== 'local') throw notFound(`No route for GET ${c.req.path}`);
    const rows = await db(c).select().from(devOutbox).orderBy(desc(devOutbox.createdAt)).limit(100);
    return c.json({ messages: rows.map((m) => ({ ...m, createdAt: m.createdAt.toISOString() })) }, 200);
  },
);
