import { Resend } from 'resend';
import type { Queryable } from '../db/client.ts';
import { devOutbox } from '../db/schema.ts';
import type { Config } from '../env.ts';
import { HttpError } from '../http/errors.ts';
import { log } from '../http/logger.ts';
import type { MailMessage } from './templates.ts';

/** What one send came to; alert notifications retry on failures, account mail answers 503. */
export type MailOutcome =
  | { ok: true; via: 'resend' | 'dev_outbox' }
  | {
      ok: false;
      /** HTTP status from Resend; null for a network error or when mail is not configured. */
      status: number | null;
      error: string;
      /** Resend's `Retry-After` on a 429, in milliseconds. */
      retryAfterMs?: number;
      unconfigured?: true;
    };

/**
 * Where mail goes: Resend when a key is configured; in local mode without one, the dev outbox table
 * that the dashboard shows (its links work end to end). Production without a key is a configuration
 * error, never a silent drop. `idempotencyKey` makes a retried send a no-op at Resend.
 */
export async function deliverMail(
  config: Config,
  database: Queryable | null,
  to: readonly string[],
  message: MailMessage,
  options: { idempotencyKey?: string; signal?: AbortSignal } = {},
): Promise<MailOutcome> {
  if (config.RESEND_API_KEY) {
    const resend = new Resend(config.RESEND_API_KEY, config.RESEND_BASE_URL ? { baseUrl: config.RESEND_BASE_URL } : {});
    const { error, headers } = await resend.emails.send(
      { from: config.MAIL_FROM, to: [...to], subject: message.subject, text: message.text, html: message.html },
      {
        ...(options.idempotencyKey ? { idempotencyKey: options.idempotencyKey } : {}),
        ...(options.signal ? { signal: options.signal } : {}),
      },
    );
    if (!error) return { ok: true, via: 'resend' };
    const retryAfter = Number(headers?.['retry-after']);
    return {
      ok: false,
      status: error.statusCode,
      error: `${error.name}: ${error.message}`,
      ...(Number.isFinite(retryAfter) && retryAfter >= 0 ? { retryAfterMs: retryAfter * 1000 } : {}),
    };
  }
  if (config.PULSEWIRE_MODE === 'local' && database) {
    await database
      .insert(devOutbox)
      .values(to.map((address) => ({ to: address, subject: message.subject, text: message.text, html: message.html })));
    return { ok: true, via: 'dev_outbox' };
  }
  const error =
    config.PULSEWIRE_MODE === 'local' ? 'no database for the dev outbox' : 'RESEND_API_KEY is not configured';
  return { ok: false, status: null, error, unconfigured: true };
}

/** Account mail to one address: a failure is the request's failure (503 `mail_unavailable`). */
export async function sendMail(config: Config, database: Queryable, to: string, message: MailMessage): Promise<void> {
  const outcome = await deliverMail(config, database, [to], message);
  if (outcome.ok) return;
  if (outcome.unconfigured) {
    log('error', 'RESEND_API_KEY is not configured; mail cannot be sent', { kind: message.kind });
    throw new HttpError(503, 'mail_unavailable', 'E-mail is not configured on this server');
  }
  // The error names what failed; recipients and subjects (which may quote them) never reach the logs.
  log('error', 'mail delivery failed', { kind: message.kind, error: outcome.error.split(':')[0] });
  throw new HttpError(503, 'mail_unavailable', 'We could not send the e-mail; try again shortly');
}
