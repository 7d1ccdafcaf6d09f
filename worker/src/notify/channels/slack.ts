import type { NotifiedAlert } from '@pulsewire/protocol';
import type {
  ActionsBlock,
  Button,
  ContextBlock,
  HeaderBlock,
  KnownBlock,
  MessageAttachment,
  SectionBlock,
} from '@slack/types';
import { alertLine, hostUrl } from '../messages.ts';
import type { Notification, SendOptions, SendResult } from '../types.ts';
import { isResponse, parseRetryAfter, postJson, readSnippet } from './http.ts';

/**
 * Slack incoming webhook: Block Kit inside a legacy attachment, the only way to get the coloured
 * bar (critical red, warning amber, resolved green). Within Slack's limits: ≤ 50 blocks, header
 * ≤ 150 characters, section text ≤ 3000, button text ≤ 75.
 */

export const SLACK_LIMITS = { blocks: 50, header: 150, section: 3000, button: 75 } as const;
/** Alert sections per message; the rest are counted in a context line. */
const MAX_ALERT_SECTIONS = 40;

export const SLACK_COLORS = { critical: '#d92d20', warning: '#f79009', resolved: '#12b76a', neutral: '#667085' };

/** Slack answers these in the body of a 4xx: the webhook will never work again as configured. */
const PERMANENT_ERRORS = new Set([
  'invalid_payload',
  'channel_not_found',
  'channel_is_archived',
  'no_service',
  'no_service_id',
  'no_team',
  'team_disabled',
  'invalid_token',
  'action_prohibited',
  'posting_to_general_channel_denied',
]);

export interface SlackMessage {
  text: string;
  blocks: KnownBlock[];
  attachments: MessageAttachment[];
}

const truncate = (text: string, max: number) => (text.length <= max ? text : `${text.slice(0, max - 1)}…`);
/** mrkdwn control characters (Slack's own escaping rule: only these three). */
const mrkdwn = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const link = (url: string, text: string) => `<${url.replace(/[<>|]/g, encodeURIComponent)}|${mrkdwn(text)}>`;

export function slackColor(message: Notification): string {
  if (message.kind === 'resolved') return SLACK_COLORS.resolved;
  if (message.level) return SLACK_COLORS[message.level];
  return SLACK_COLORS.neutral;
}

function title(message: Notification): string {
  const tag =
    message.kind === 'resolved'
      ? '✅ Resolved'
      : message.level === 'critical'
        ? '🔴 Critical'
        : message.level === 'warning'
          ? '🟠 Warning'
          : message.kind === 'digest'
            ? '🗂 Digest'
            : 'ℹ️ Pulsewire';
  return `${tag}: ${message.ruleName ?? message.summary}`;
}

function alertSection(alert: NotifiedAlert, origin: string): SectionBlock {
  const lines = [`*${link(alert.url, alertLine(alert))}*`];
  if (alert.hostId) lines.push(`Host: ${link(hostUrl(origin, alert.hostId), alert.hostName ?? alert.hostId)}`);
  return { type: 'section', text: { type: 'mrkdwn', text: truncate(lines.join('\n'), SLACK_LIMITS.section) } };
}

function button(text: string, url: string, style?: 'primary'): Button {
  return {
    type: 'button',
    text: { type: 'plain_text', text: truncate(text, SLACK_LIMITS.button) },
    url,
    ...(style ? { style } : {}),
  };
}

export function slackMessage(message: Notification): SlackMessage {
  const header: HeaderBlock = {
    type: 'header',
    text: { type: 'plain_text', text: truncate(title(message), SLACK_LIMITS.header) },
  };
  const blocks: KnownBlock[] = [
    { type: 'section', text: { type: 'mrkdwn', text: truncate(mrkdwn(message.summary), SLACK_LIMITS.section) } },
  ];
  for (const alert of message.alerts.slice(0, MAX_ALERT_SECTIONS))
    blocks.push(alertSection(alert, message.externalUrl));
  const hidden = message.alerts.length - MAX_ALERT_SECTIONS;
  if (message.digest?.length) {
    const lines = message.digest.map((entry) => `• ${mrkdwn(entry.summary)}`);
    blocks.push({ type: 'section', text: { type: 'mrkdwn', text: truncate(lines.join('\n'), SLACK_LIMITS.section) } });
  }
  if (hidden > 0) {
    const context: ContextBlock = { type: 'context', elements: [{ type: 'mrkdwn', text: `and ${hidden} more` }] };
    blocks.push(context);
  }
  const buttons: Button[] = [];
  const [first] = message.alerts;
  if (message.alerts.length === 1 && first) buttons.push(button('View alert', first.url, 'primary'));
  else buttons.push(button('Open Pulsewire', `${message.externalUrl}/alerts`, 'primary'));
  const runbook = first?.runbook ?? '';
  if (/^https?:\/\//.test(runbook)) buttons.push(button('Runbook', runbook));
  const actions: ActionsBlock = { type: 'actions', elements: buttons };
  blocks.push(actions);
  if (runbook && !/^https?:\/\//.test(runbook)) {
    blocks.push({
      type: 'context',
      elements: [{ type: 'mrkdwn', text: truncate(`Runbook: ${mrkdwn(runbook)}`, 3000) }],
    });
  }
  return {
    text: message.summary,
    blocks: [header],
    attachments: [
      { color: slackColor(message), fallback: message.summary, blocks: blocks.slice(0, SLACK_LIMITS.blocks) },
    ],
  };
}

/**
 * 200 `ok` delivered; 429 retries after `Retry-After`; Slack's permanent errors (and 404/410)
 * disable the channel with the reason; other failures retry.
 */
export async function sendSlack(url: string, message: Notification, options: SendOptions): Promise<SendResult> {
  const res = await postJson(url, JSON.stringify(slackMessage(message)), {}, options.signal);
  if (!isResponse(res)) return res;
  const body = await readSnippet(res);
  if (res.status >= 200 && res.status < 300) return { outcome: 'delivered', status: res.status };
  const code = /^[a-z_]+$/.test(body) ? body : null;
  if ((code && PERMANENT_ERRORS.has(code)) || res.status === 404 || res.status === 410) {
    return { outcome: 'permanent', status: res.status, error: `Slack answered ${code ?? `HTTP ${res.status}`}` };
  }
  const retryAfterMs = parseRetryAfter(res.headers.get('retry-after'), options.now);
  return {
    outcome: 'retry',
    status: res.status,
    error: `Slack answered HTTP ${res.status}${body ? `: ${body}` : ''}`,
    ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
  };
}
