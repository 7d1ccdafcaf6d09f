import type { EmailRecipients } from '@pulsewire/protocol';
import type { z } from 'zod';
import { type EmailDeps, sendEmail } from './channels/email.ts';
import { sendSlack } from './channels/slack.ts';
import { sendWebhook } from './channels/webhook.ts';
import { checkSlackUrl, checkTarget, type TargetMode } from './targets.ts';
import type { Sender } from './types.ts';

export interface SenderDeps {
  /** Target rules: production refuses http, loopback and private addresses; local allows loopback. */
  mode: TargetMode;
  mail: EmailDeps;
  /** Addresses for an e-mail channel's recipients (roles are resolved against the members now). */
  recipients(to: z.infer<typeof EmailRecipients>): Promise<string[]>;
}

/**
 * The outbox's `send`: picks the channel module by type. Targets are checked again before every
 * attempt, so a URL stored under looser rules is refused (and the channel disabled) rather than reached.
 */
export function createSender(deps: SenderDeps): Sender {
  return async (channel, message, options) => {
    const config = channel.config;
    switch (config.type) {
      case 'email':
        return sendEmail(deps.mail, await deps.recipients(config.to), message, options);
      case 'slack': {
        const target = checkSlackUrl(config.webhookUrl, { mode: deps.mode });
        if (!target.ok) return { outcome: 'permanent', status: null, error: `forbidden target: ${target.reason}` };
        return sendSlack(target.url.href, message, options);
      }
      case 'webhook': {
        const target = checkTarget(config.url, { mode: deps.mode });
        if (!target.ok) return { outcome: 'permanent', status: null, error: `forbidden target: ${target.reason}` };
        return sendWebhook(target.url.href, channel.secrets, message, options);
      }
    }
  };
}
