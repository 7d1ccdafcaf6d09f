import { describe, expect, it } from 'vitest';
import { emailChannel } from '#lib/alerts/fixtures.ts';
import {
  channelDraft,
  channelToForm,
  describeQuietHours,
  emptyChannelForm,
  splitAddresses,
  validateChannelForm,
} from './channel-form.ts';

const slack = emailChannel({
  name: 'Ops Slack',
  config: { type: 'slack', webhookUrlHint: 'https://hooks.slack.com/…/abcd' },
  builtIn: false,
});
const hook = emailChannel({
  name: 'Pager',
  config: { type: 'webhook', url: 'https://pager.example.com/in', secretHint: 'whsec_…wxyz' },
  builtIn: false,
});

describe('channel form ↔ ChannelInput', () => {
  it('creates an e-mail channel for roles by default', () => {
    const form = emptyChannelForm('Europe/Paris');
    form.name = 'Admins';
    const result = validateChannelForm(form);
    expect(result).toMatchObject({
      ok: true,
      body: {
        name: 'Admins',
        minLevel: 'warning',
        config: { type: 'email', to: { kind: 'roles', roles: ['owner', 'admin'] } },
        quietHours: null,
        hourlyBudget: 30,
      },
    });
  });

  it('reads addresses separated by commas, spaces or lines, and points at the bad one', () => {
    expect(splitAddresses('a@x.io, b@y.io\n\nc@z.io;d@w.io')).toEqual(['a@x.io', 'b@y.io', 'c@z.io', 'd@w.io']);
    const form = emptyChannelForm('UTC');
    form.name = 'People';
    form.emailKind = 'addresses';
    form.addresses = 'ada@example.com\nnot-an-address';
    expect(validateChannelForm(form).errors).toEqual({ 'config.to.addresses.1': 'Not a valid e-mail address' });
  });

  it('sends quiet hours with their zone, and reports an unknown zone on its field', () => {
    const form = emptyChannelForm('Europe/Paris');
    form.name = 'Quiet';
    form.quiet = { on: true, timeZone: 'Europe/Paris', start: '22:00', end: '07:00', days: ['mon', 'tue'] };
    expect(channelDraft(form).quietHours).toEqual({
      timeZone: 'Europe/Paris',
      start: '22:00',
      end: '07:00',
      days: ['mon', 'tue'],
    });
    form.quiet.timeZone = 'Mars/Olympus';
    form.quiet.start = '25:00';
    expect(validateChannelForm(form).errors).toEqual({
      'quietHours.timeZone': 'An IANA time zone such as Europe/Paris',
      'quietHours.start': 'A time as HH:MM (24-hour)',
    });
  });

  it('needs a Slack URL for a new Slack channel, and keeps the stored one on edit when left empty', () => {
    const form = emptyChannelForm('UTC');
    form.name = 'Slack';
    form.type = 'slack';
    expect(validateChannelForm(form).errors).toHaveProperty(['config.webhookUrl']);
    const edit = channelToForm(slack, 'UTC');
    edit.minLevel = 'critical';
    expect(channelDraft(edit, slack)).not.toHaveProperty('config');
    expect(validateChannelForm(edit, slack)).toMatchObject({ ok: true, body: { minLevel: 'critical' } });
    edit.slackUrl = 'https://hooks.slack.com/services/T/B/new';
    expect(channelDraft(edit, slack).config).toEqual({
      type: 'slack',
      webhookUrl: 'https://hooks.slack.com/services/T/B/new',
    });
  });

  it('round-trips a webhook channel and sends its URL only when it changed', () => {
    const form = channelToForm(hook, 'UTC');
    expect(form.webhookUrl).toBe('https://pager.example.com/in');
    expect(channelDraft(form, hook)).not.toHaveProperty('config');
    form.webhookUrl = 'https://pager.example.com/v2';
    expect(channelDraft(form, hook).config).toEqual({ type: 'webhook', url: 'https://pager.example.com/v2' });
  });

  it('round-trips an e-mail channel with addresses and quiet hours', () => {
    const channel = emailChannel({
      config: { type: 'email', to: { kind: 'addresses', addresses: ['a@x.io', 'b@y.io'] } },
      quietHours: { timeZone: 'America/New_York', start: '20:00', end: '08:00', days: ['sat', 'sun'] },
      hourlyBudget: 12,
    });
    const form = channelToForm(channel, 'UTC');
    expect(channelDraft(form, channel)).not.toHaveProperty('config');
    form.addresses += '\nc@z.io';
    const result = validateChannelForm(form, channel);
    expect(result).toMatchObject({
      ok: true,
      body: {
        config: { type: 'email', to: { kind: 'addresses', addresses: ['a@x.io', 'b@y.io', 'c@z.io'] } },
        quietHours: { timeZone: 'America/New_York', start: '20:00', end: '08:00', days: ['sat', 'sun'] },
        hourlyBudget: 12,
      },
    });
  });

  it('reports a budget out of range and a missing name', () => {
    const form = emptyChannelForm('UTC');
    form.hourlyBudget = '0';
    expect(validateChannelForm(form).errors).toEqual({ name: 'Required', hourlyBudget: 'Must be at least 1' });
  });

  it('describes quiet hours in one line', () => {
    expect(describeQuietHours(null)).toBe('None');
    expect(describeQuietHours({ timeZone: 'Europe/Paris', start: '22:00', end: '07:00', days: ['mon', 'tue'] })).toBe(
      '22:00–07:00 Europe/Paris, Mon, Tue',
    );
  });
});
