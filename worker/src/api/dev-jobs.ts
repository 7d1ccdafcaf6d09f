import { z } from 'zod';
import { parseConfig } from '../env.ts';
import { notFound } from '../http/errors.ts';
import { jsonRoute, router } from '../http/route.ts';
import { runScheduledJobs } from '../jobs/scheduled.ts';

const JobsRun = z
  .object({
    history: z.object({
      hoursCompacted: z.number(),
      lateMerged: z.number(),
      hoursRolledUp: z.number(),
      daysFolded: z.number(),
      compactedUntil: z.number().nullable(),
      rolledUpUntil: z.number().nullable(),
      foldedUntil: z.number().nullable(),
      behind: z.boolean(),
      skipped: z.boolean(),
    }),
  })
  .meta({ id: 'JobsRun' });

/**
 * Local mode only: runs what the cron trigger runs (purge, history compaction, roll-ups, retention) now,
 * for `pnpm dev` (which calls it every few minutes, wrangler dev having no cron) and for tests. Outside local
 * mode the route does not exist.
 */
export const devJobRoutes = router().openapi(
  jsonRoute({
    method: 'post',
    path: '/dev/jobs/run',
    summary: 'Local mode only: run the scheduled jobs now',
    tags: ['local'],
    response: JobsRun,
    status: 200,
  }),
  async (c) => {
    if (parseConfig(c.env).PULSEWIRE_MODE !== 'local') throw notFound(`No route for POST ${c.req.path}`);
    const { history } = await runScheduledJobs(c.env);
    return c.json({ history }, 200);
  },
);
