import type { NotifiedAlert } from '@pulsewire/protocol';
import type { Queryable } from '../../db/client.ts';
import type { Config } from '../../env.ts';
import { deliverMail } from '../../mail/mailer.ts';
import { escapeHtml, type MailMessage } from '../../mail/templates.ts';
import { alertLine, hostUrl } from '../messages.ts';
import type { Notification, SendOptions, SendResult } from '../types.ts';

/**
 * E-mail channel: the same sending path as account mail (`deliverMail`: Resend, or the dev outbox in
 * local mode without a key), with the message id as Resend's idempotency key so a retried send is
 * not a second mail. Recipients are resolved by the object (roles → members' addresses).
 */

export interface EmailDeps {
  config: Config;
  /** For the dev outbox (local mode without RESEND_API_KEY); unused when Resend is configured. */
  database: Queryable | null;
}

const MAX_ALERTS_LISTED = 50;

function tag(message: Notification): string {
  if (message.kind === 'resolved') return 'RESOLVED';
  if (message.kind === 'delivery_failed') return 'DELIVERY FAILED';
  if (message.kind === 'test') return 'TEST';
  const level = message.level ? message.level.toUpperCase() : 'INFO';
  return message.kind === 'digest' ? `DIGEST ${level}` : level;
}

/** Subject: level (or resolved) and rule, e.g. `[CRITICAL] High CPU critical on web-1 cpu.total`. */
export function emailSubject(message: Notification): string {
  const subject = `[${tag(message)}] ${message.summary}`;
  return subject.length <= 200 ? subject : `${subject.slice(0, 199)}…`;
}

function alertText(alert: NotifiedAlert, origin: string): string {
  const lines = [`- ${alertLine(alert)}`, `  Alert: ${alert.url}`];
  if (alert.hostId) lines.push(`  Host: ${hostUrl(origin, alert.hostId)}`);
  if (alert.state !== 'resolved') lines.push(`  Since ${alert.startedAt}`);
  return lines.join('\n');
}

function alertHtml(alert: NotifiedAlert, origin: string): string {
  const host = alert.hostId
    ? ` · <a href="${escapeHtml(hostUrl(origin, alert.hostId))}" style="color:#4f46e5">host</a>`
    : '';
  const since =
    alert.state === 'resolved'
      ? ''
      : `<br><span style="color:#64748b;font-size:13px">since ${escapeHtml(alert.startedAt)}</span>`;
  return `<li style="margin:0 0 10px"><a href="${escapeHtml(alert.url)}" style="color:#0f172a;font-weight:600">${escapeHtml(alertLine(alert))}</a>${host}${since}</li>`;
}

export function renderEmail(message: Notification): MailMessage {
  const origin = message.externalUrl;
  const alerts = message.alerts.slice(0, MAX_ALERTS_LISTED);
  const more = message.alerts.length - alerts.length;
  const runbook = message.alerts[0]?.runbook ?? '';
  const digest = message.digest ?? [];
  const digestLines = digest.map((e) => `- ${e.summary}`);
  if (message.digestTotal && message.digestTotal > digest.length) {
    digestLines.push(`- and ${message.digestTotal - digest.length} more`);
  }

  const text = [
    message.summary,
    '',
    ...alerts.map((a) => alertText(a, origin)),
    ...(more > 0 ? [`- and ${more} more`] : []),
    ...(digestLines.length ? ['', 'Held back:', ...digestLines] : []),
    ...(runbook ? ['', `Runbook: ${runbook}`] : []),
    '',
    `Open Pulsewire: ${origin}/alerts`,
    '',
    '— Pulsewire',
  ].join('\n');

  const color =
    message.kind === 'resolved'
      ? '#12b76a'
      : message.level === 'critical'
        ? '#d92d20'
        : message.level
          ? '#f79009'
          : '#667085';
  const runbookHtml = runbook
    ? `<p><strong>Runbook:</strong> ${/^https?:\/\//.test(runbook) ? `<a href="${escapeHtml(runbook)}">${escapeHtml(runbook)}</a>` : escapeHtml(runbook)}</p>`
    : '';
  const html = `<!doctype html><html><body style="font-family:system-ui,sans-serif;color:#0f172a;max-width:640px;margin:auto;padding:24px">
<div style="border-left:4px solid ${color};padding-left:12px">
<p style="font-size:12px;letter-spacing:.05em;color:${color};margin:0">${escapeHtml(tag(message))}</p>
<h1 style="font-size:18px;margin:4px 0 16px">${escapeHtml(message.summary)}</h1>
</div>
${alerts.length ? `<ul style="padding-left:18px">${alerts.map((a) => alertHtml(a, origin)).join('')}</ul>` : ''}
${more > 0 ? `<p>and ${more} more</p>` : ''}
${digestLines.length ? `<p><strong>Held back:</strong></p><ul>${digestLines.map((l) => `<li>${escapeHtml(l.slice(2))}</li>`).join('')}</ul>` : ''}
${runbookHtml}
<p><a href="${escapeHtml(origin)}/alerts" style="display:inline-block;background:#4f46e5;color:#fff;padding:10px 16px;border-radius:6px;text-decoration:none">Open Pulsewire</a></p>
</body></html>`;
  return { kind: `alert_${message.kind}`, subject: emailSubject(message), text, html };
}

/** Every failure retries: the addresses are the user's, a Resend outage or misconfiguration is ours. */
export async function sendEmail(
  deps: EmailDeps,
  recipients: readonly string[],
  message: Notification,
  options: SendOptions,
): Promise<SendResult> {
  if (recipients.length === 0)
    return { outcome: 'retry', status: null, error: 'no recipients (nobody holds the roles?)' };
  const outcome = await deliverMail(deps.config, deps.database, recipients, renderEmail(message), {
    idempotencyKey: message.id,
    signal: options.signal,
  });
  if (outcome.ok) return { outcome: 'delivered', status: outcome.via === 'resend' ? 200 : null };
  return {
    outcome: 'retry',
    status: outcome.status,
    error: outcome.error,
    ...(outcome.retryAfterMs === undefined ? {} : { retryAfterMs: outcome.retryAfterMs }),
  };
}
