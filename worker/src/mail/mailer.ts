import { Resend } from 'resend';
import type { Queryable } from '../db/client.ts';
import { devOutbox } from '../db/schema.ts';
import type { Config } from '../env.ts';
import { HttpError } from '../http/errors.ts';
import { log } from '../http/logger.ts';
import type { MailMessage } from './templates.ts';

/**
 * Where account mail goes: Resend when a key is configured; in local mode without one, the dev
 * outbox table that the dashboard shows (its links work end to end). Production without a key is
 * a configuration error, never a silent drop.
 */
export async function sendMail(config: Config, database: Queryable, to: string, message: MailMessage): Promise<void> {
  if (config.RESEND_API_KEY) {
    const resend = new Resend(config.RESEND_API_KEY, config.RESEND_BASE_URL ? { baseUrl: config.RESEND_BASE_URL } : {});
    const { error } = await resend.emails.send({
      from: config.MAIL_FROM,
      to: [to],
      subject: message.subject,
      text: message.text,
      html: message.html,
    });
    if (error) {
      // Resend's name says what failed; its message may quote the address, which logs never hold.
      log('error', 'mail delivery failed', { kind: message.kind, error: error.name });
      throw new HttpError(503, 'mail_unavailable', 'We could not send the e-mail; try again shortly');
    }
    return;
  }
  if (config.PULSEWIRE_MODE === 'local') {
    await database.insert(devOutbox).values({ to, subject: message.subject, text: message.text, html: message.html });
    return;
  }
  log('error', 'RESEND_API_KEY is not configured; mail cannot be sent', { kind: message.kind });
  throw new HttpError(503, 'mail_unavailable', 'E-mail is not configured on this server');
}
