import type { AlertLevel } from '@pulsewire/protocol';
import type { NotifyChannel, NotifyRule } from './types.ts';

export const levelRank: Record<AlertLevel, number> = { warning: 1, critical: 2 };

export const higherLevel = (a: AlertLevel, b: AlertLevel): AlertLevel => (levelRank[b] > levelRank[a] ? b : a);

/** The enabled channels a rule notifies: the listed ones, or every enabled channel when the list is null. */
export function channelsOf(rule: NotifyRule, channels: readonly NotifyChannel[]): NotifyChannel[] {
  const listed = rule.notify.channelIds ? new Set(rule.notify.channelIds) : null;
  return channels.filter((c) => c.enabled && (listed === null || listed.has(c.id)));
}

/** Whether a channel takes alerts of this level (its minimum level or above). */
export const takesLevel = (channel: NotifyChannel, level: AlertLevel) =>
  levelRank[level] >= levelRank[channel.minLevel];

/**
 * Where notices about failed deliveries go: enabled e-mail channels that reach the owners, except
 * the channel that failed (a broken channel cannot report its own failure).
 */
export function ownerChannels(channels: readonly NotifyChannel[], failedChannelId: string): NotifyChannel[] {
  return channels.filter(
    (c) =>
      c.enabled &&
      c.id !== failedChannelId &&
      c.config.type === 'email' &&
      c.config.to.kind === 'roles' &&
      c.config.to.roles.includes('owner'),
  );
}
