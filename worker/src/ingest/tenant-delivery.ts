import type { Cadence } from '@pulsewire/protocol';
import type { Context } from 'hono';
import type { AppEnv } from '../http/app-env.ts';
import { log } from '../http/logger.ts';

/**
 * Calls the tenant object after a batch is committed. The batch is stored by then, so nothing the object does
 * may turn the answer into an error: the agent would send the batch again, take the duplicate path, and the
 * live frame and presence update would be lost for good. A failed call answers `fallback` (the idle cadence)
 * and logs a warning; with `retry`, the call is made once more after the response has gone out.
 */
export async function deliverToTenant(
  c: Context<AppEnv>,
  what: { hostId: string; tenantId: string; call: string },
  send: () => Promise<Cadence>,
  options: { fallback: Cadence; retry: boolean },
): Promise<Cadence> {
  try {
    return await send();
  } catch (error) {
    log('warn', 'tenant object unreachable after the batch was stored; answering the idle cadence', {
      requestId: c.get('requestId'),
      ...what,
      error: describe(error),
      retry: options.retry,
    });
    if (options.retry) {
      const again = send().then(
        () => log('info', 'tenant object reached on retry', { requestId: c.get('requestId'), ...what }),
        (retryError) =>
          log('warn', 'tenant object retry failed; this batch is stored but was not shown live', {
            requestId: c.get('requestId'),
            ...what,
            error: describe(retryError),
          }),
      );
      try {
        c.executionCtx.waitUntil(again);
      } catch {
        // No execution context (the app called without one): the retry still runs, only unawaited.
      }
    }
    return options.fallback;
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
