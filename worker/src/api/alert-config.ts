import type { Context } from 'hono';
import type { AppEnv } from '../http/app-env.ts';
import { log } from '../http/logger.ts';

function tenantObject(c: Context<AppEnv>, tenantId: string) {
  return c.env.TENANT.get(c.env.TENANT.idFromName(tenantId));
}

/**
 * Tells the tenant object that rules, channels, silences or maintenance windows changed in Postgres,
 * so it reloads them. Best effort: the change is committed and the request has succeeded; an object
 * that missed the call still reloads on its next wake-up. A failure is logged, never returned.
 */
export async function alertConfigChanged(c: Context<AppEnv>, tenantId: string): Promise<void> {
  try {
    await tenantObject(c, tenantId).alertConfigChanged(tenantId);
  } catch (error) {
    log('warn', 'could not tell the tenant object that alerting changed', { tenantId, error: describe(error) });
  }
}

/** Tells the tenant object an alert was acknowledged (it stops re-notifying). Best effort, as above. */
export async function alertAcknowledged(c: Context<AppEnv>, tenantId: string, alertId: string): Promise<void> {
  try {
    await tenantObject(c, tenantId).acknowledgeAlert(tenantId, alertId);
  } catch (error) {
    log('warn', 'could not tell the tenant object about an acknowledgement', {
      tenantId,
      alertId,
      error: describe(error),
    });
  }
}

const describe = (error: unknown) => (error instanceof Error ? error.message : String(error));
