import {
  type AlertLevel,
  type Channel,
  ChannelInput,
  ChannelPatch,
  type Role,
  type Weekday,
  weekdays,
} from '@pulsewire/protocol';
import type { z } from 'zod';
import { numberOf } from '#lib/alerts/durations.ts';
import { type FieldErrors, issuesToErrors } from '#lib/alerts/validation.ts';

/**
 * The channel dialog's state and its mapping to `POST /channels` and `PATCH /channels/:id`, checked
 * with the protocol's `ChannelInput` / `ChannelPatch` and errors keyed by body path
 * (`config.to.addresses.1`, `quietHours.timeZone`).
 *
 * The API never returns a Slack URL or a webhook secret whole, so an edit sends `config` only when
 * the destination changed: a Slack URL left empty keeps the stored one.
 */

export type ChannelType = 'email' | 'slack' | 'webhook';

export interface ChannelForm {
  name: string;
  enabled: boolean;
  minLevel: AlertLevel;
  type: ChannelType;
  emailKind: 'roles' | 'addresses';
  roles: Role[];
  /** Addresses separated by commas, spaces or new lines. */
  addresses: string;
  slackUrl: string;
  webhookUrl: string;
  quiet: { on: boolean; timeZone: string; start: string; end: string; days: Weekday[] };
  hourlyBudget: string;
}

export function emptyChannelForm(timeZone: string): ChannelForm {
  return {
    name: '',
    enabled: true,
    minLevel: 'warning',
    type: 'email',
    emailKind: 'roles',
    roles: ['owner', 'admin'],
    addresses: '',
    slackUrl: '',
    webhookUrl: '',
    quiet: { on: false, timeZone, start: '22:00', end: '07:00', days: [...weekdays] },
    hourlyBudget: '30',
  };
}

export function channelToForm(channel: Channel, timeZone: string): ChannelForm {
  const form = emptyChannelForm(timeZone);
  form.name = channel.name;
  form.enabled = channel.enabled;
  form.minLevel = channel.minLevel;
  form.type = channel.config.type;
  form.hourlyBudget = String(channel.hourlyBudget);
  const c = channel.config;
  if (c.type === 'email') {
    form.emailKind = c.to.kind;
    if (c.to.kind === 'roles') form.roles = [...c.to.roles];
    else form.addresses = c.to.addresses.join('\n');
  } else if (c.type === 'webhook') {
    form.webhookUrl = c.url;
  }
  if (channel.quietHours) form.quiet = { on: true, ...channel.quietHours, days: [...channel.quietHours.days] };
  return form;
}

/** `a@x.io, b@y.io\nc@z.io` → three addresses. */
export function splitAddresses(text: string): string[] {
  return text
    .split(/[\s,;]+/)
    .map((a) => a.trim())
    .filter(Boolean);
}

function configDraft(form: ChannelForm): Record<string, unknown> {
  switch (form.type) {
    case 'email':
      return {
        type: 'email',
        to:
          form.emailKind === 'roles'
            ? { kind: 'roles', roles: form.roles }
            : { kind: 'addresses', addresses: splitAddresses(form.addresses) },
      };
    case 'slack':
      return { type: 'slack', webhookUrl: form.slackUrl.trim() };
    default:
      return { type: 'webhook', url: form.webhookUrl.trim() };
  }
}

/** Whether the destination differs from the stored channel's (always true for a new channel). */
export function configChanged(form: ChannelForm, original: Channel | undefined): boolean {
  if (!original) return true;
  const c = original.config;
  if (form.type !== c.type) return true;
  if (c.type === 'slack') return form.slackUrl.trim() !== '';
  if (c.type === 'webhook') return form.webhookUrl.trim() !== c.url;
  return JSON.stringify(configDraft(form).to) !== JSON.stringify(c.to);
}

/** The request body: the whole channel when creating; when editing, everything but an unchanged destination. */
export function channelDraft(form: ChannelForm, original?: Channel): Record<string, unknown> {
  return {
    name: form.name,
    enabled: form.enabled,
    minLevel: form.minLevel,
    ...(configChanged(form, original) ? { config: configDraft(form) } : {}),
    quietHours: form.quiet.on
      ? { timeZone: form.quiet.timeZone, start: form.quiet.start, end: form.quiet.end, days: form.quiet.days }
      : null,
    hourlyBudget: numberOf(form.hourlyBudget),
  };
}

export type ChannelValidation =
  | { ok: true; body: z.output<typeof ChannelInput> | z.output<typeof ChannelPatch>; errors: FieldErrors }
  | { ok: false; errors: FieldErrors };

/** Checks the dialog with the API's schema (`ChannelInput` for a new channel, `ChannelPatch` for an edit). */
export function validateChannelForm(form: ChannelForm, original?: Channel): ChannelValidation {
  const draft = channelDraft(form, original);
  const parsed = original ? ChannelPatch.safeParse(draft) : ChannelInput.safeParse(draft);
  if (parsed.success) return { ok: true, body: parsed.data, errors: {} };
  return { ok: false, errors: issuesToErrors(parsed.error.issues) };
}

/** `22:00–07:00 Europe/Paris, Mon–Fri`: quiet hours in one line. */
export function describeQuietHours(q: Channel['quietHours']): string {
  if (!q) return 'None';
  const days = q.days.length === 7 ? 'every day' : q.days.map((d) => d.charAt(0).toUpperCase() + d.slice(1)).join(', ');
  return `${q.start}–${q.end} ${q.timeZone}, ${days}`;
}

/** Where a channel sends, without secrets: roles, addresses, the Slack hint, the webhook URL. */
export function describeTarget(channel: Channel): string {
  const c = channel.config;
  if (c.type === 'email') {
    return c.to.kind === 'roles'
      ? `Every ${c.to.roles.join(', ')}`
      : c.to.addresses.length <= 2
        ? c.to.addresses.join(', ')
        : `${c.to.addresses.slice(0, 2).join(', ')} and ${c.to.addresses.length - 2} more`;
  }
  if (c.type === 'slack') return c.webhookUrlHint;
  return c.url;
}
