import type { Context } from 'hono';
import { type Database, openDatabase } from '../db/client.ts';
import { parseConfig } from '../env.ts';
import type { AppEnv } from '../http/app-env.ts';
import { loggableError } from '../http/loggable-error.ts';
import { log } from '../http/logger.ts';
import { sendMail } from './mailer.ts';
import type { MailMessage } from './templates.ts';

/** Attempts and the pauses between them: rides out a brief mail-provider hiccup within waitUntil's time. */
const RETRY_DELAYS_MS = [500, 2_000];

/**
 * Runs `task` after the response has gone: with its own database handle (the request's is closed
 * with the response), retried on failure, and logged (by kind, never by address) if it still fails.
 *
 * Work that depends on whether an address has an account, and every mail, goes here, so that
 * answers take the same time whoever the address belongs to, and a slow mail provider never holds
 * a request. The price: the caller no longer learns that a mail could not be sent.
 */
export function afterResponse(c: Context<AppEnv>, kind: string, task: (database: Database) => Promise<void>): void {
  const config = parseConfig(c.env);
  const run = async () => {
    for (let attempt = 0; ; attempt++) {
      const handle = openDatabase(config);
      try {
        await task(handle.db);
        return;
      } catch (error) {
        const delay = RETRY_DELAYS_MS[attempt];
        if (delay === undefined) {
          log('error', 'deferred work failed', { kind, attempts: attempt + 1, ...loggableError(error) });
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, delay));
      } finally {
        await handle.close().catch(() => {});
      }
    }
  };
  try {
    c.executionCtx.waitUntil(run());
  } catch {
    // No execution context (Hono's app.request in unit tests): it just runs in the background.
    void run();
  }
}

/** Sends one mail after the response (see `afterResponse`). */
export function mailAfterResponse(c: Context<AppEnv>, to: string, message: MailMessage): void {
  const config = parseConfig(c.env);
  afterResponse(c, message.kind, (database) => sendMail(config, database, to, message));
}
