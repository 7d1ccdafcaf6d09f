import {
  AcceptedResponse,
  MAX_MAINTENANCE_WINDOWS_PER_ORG,
  MaintenanceWindow,
  MaintenanceWindowInput,
  MaintenanceWindowList,
  MaintenanceWindowPatch,
} from '@pulsewire/protocol';
import { and, asc, eq } from 'drizzle-orm';
import type { z } from 'zod';
import { caller, requireCaller, sessionCaller } from '../auth/caller.ts';
import { maintenanceWindows } from '../db/schema.ts';
import { db } from '../http/database.ts';
import { notFound } from '../http/errors.ts';
import { jsonRoute, router } from '../http/route.ts';
import { maintenancePeriod } from '../notify/schedule.ts';
import { alertConfigChanged } from './alert-config.ts';
import { ensureRoom } from './alert-limits.ts';
import { IdParam } from './params.ts';

const tags = ['maintenance windows'];
const WINDOW_LIMIT = {
  max: MAX_MAINTENANCE_WINDOWS_PER_ORG,
  code: 'too_many_maintenance_windows',
  noun: 'maintenance windows',
};

type WindowRow = typeof maintenanceWindows.$inferSelect;

function presentWindow(w: WindowRow, now: number): z.infer<typeof MaintenanceWindow> {
  return {
    id: w.id,
    name: w.name,
    timeZone: w.timeZone,
    days: w.days,
    start: w.start,
    durationMinutes: w.durationMinutes,
    matchers: w.matchers,
    enabled: w.enabled,
    createdAt: w.createdAt.toISOString(),
    activeNow: maintenancePeriod(w, now) !== null,
  };
}

export const maintenanceWindowRoutes = router()
  .openapi(
    jsonRoute({
      method: 'get',
      path: '/maintenance-windows',
      summary: 'Recurring maintenance windows, by name, with whether each is open now',
      tags,
      response: MaintenanceWindowList,
      status: 200,
      middleware: [requireCaller('viewer')],
    }),
    async (c) => {
      const rows = await db(c)
        .select()
        .from(maintenanceWindows)
        .where(eq(maintenanceWindows.tenantId, caller(c).tenantId))
        .orderBy(asc(maintenanceWindows.name), asc(maintenanceWindows.id));
      const now = Date.now();
      return c.json({ windows: rows.map((w) => presentWindow(w, now)) }, 200);
    },
  )
  .openapi(
    jsonRoute({
      method: 'post',
      path: '/maintenance-windows',
      summary: `Create a recurring maintenance window: matching alerts notify nobody while it is open (at most ${MAX_MAINTENANCE_WINDOWS_PER_ORG})`,
      tags,
      body: MaintenanceWindowInput,
      response: MaintenanceWindow,
      status: 201,
      conflict: '`too_many_maintenance_windows`: the organisation has the most windows it may have',
      middleware: [requireCaller('admin')],
    }),
    async (c) => {
      const input = c.req.valid('json');
      const who = sessionCaller(c);
      const row = await db(c).transaction(async (tx) => {
        await ensureRoom(tx, who.tenantId, WINDOW_LIMIT, () =>
          tx.$count(maintenanceWindows, eq(maintenanceWindows.tenantId, who.tenantId)),
        );
        const [inserted] = await tx
          .insert(maintenanceWindows)
          .values({ tenantId: who.tenantId, ...input, createdBy: who.userId })
          .returning();
        return inserted;
      });
      if (!row) throw new Error('maintenance window insert returned nothing');
      await alertConfigChanged(c, who.tenantId);
      return c.json(presentWindow(row, Date.now()), 201);
    },
  )
  .openapi(
    jsonRoute({
      method: 'patch',
      path: '/maintenance-windows/{id}',
      summary: 'Change a maintenance window: the fields given',
      tags,
      params: IdParam,
      body: MaintenanceWindowPatch,
      response: MaintenanceWindow,
      status: 200,
      middleware: [requireCaller('admin')],
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const patch = c.req.valid('json');
      const tenantId = caller(c).tenantId;
      const database = db(c);
      const [row] = await database
        .update(maintenanceWindows)
        .set({ ...patch, updatedAt: new Date() })
        .where(and(eq(maintenanceWindows.id, id), eq(maintenanceWindows.tenantId, tenantId)))
        .returning();
      if (!row) throw notFound('No such maintenance window');
      await alertConfigChanged(c, tenantId);
      return c.json(presentWindow(row, Date.now()), 200);
    },
  )
  .openapi(
    jsonRoute({
      method: 'delete',
      path: '/maintenance-windows/{id}',
      summary: 'Delete a maintenance window',
      tags,
      params: IdParam,
      response: AcceptedResponse,
      status: 200,
      middleware: [requireCaller('admin')],
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const tenantId = caller(c).tenantId;
      const [row] = await db(c)
        .delete(maintenanceWindows)
        .where(and(eq(maintenanceWindows.id, id), eq(maintenanceWindows.tenantId, tenantId)))
        .returning({ id: maintenanceWindows.id });
      if (!row) throw notFound('No such maintenance window');
      await alertConfigChanged(c, tenantId);
      return c.json({ ok: true as const, message: 'Maintenance window deleted' }, 200);
    },
  );
