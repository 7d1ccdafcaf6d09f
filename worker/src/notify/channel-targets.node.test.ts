import type { ChannelConfig } from '@pulsewire/protocol';
import { describe, expect, it } from 'vitest';
import { checkChannelTarget, type TargetMode } from './targets.ts';

const webhook = (url: string): ChannelConfig => ({ type: 'webhook', url });
const slack = (webhookUrl: string): ChannelConfig => ({ type: 'slack', webhookUrl });
const verdict = (config: ChannelConfig, mode: TargetMode) => {
  const check = checkChannelTarget(config, { mode });
  return check.ok ? 'ok' : check.code;
};

/** The API's table of targets (channel create/edit), against the one check the API and the notifier share. */
describe('checkChannelTarget', () => {
  it('takes public https webhooks and e-mail in production', () => {
    expect(verdict(webhook('https://hooks.example.com/pulsewire'), 'production')).toBe('ok');
    expect(verdict(webhook('https://93.184.216.34/hook'), 'production')).toBe('ok');
    expect(verdict(webhook('https://[2606:4700::1111]/hook'), 'production')).toBe('ok');
    expect(verdict({ type: 'email', to: { kind: 'roles', roles: ['owner'] } }, 'production')).toBe('ok');
  });

  it('refuses plain http, credentials, and every non-public address in production', () => {
    const refused = [
      'http://hooks.example.com/',
      'ftp://hooks.example.com/',
      'https://user:pass@hooks.example.com/',
      'https://localhost/',
      'https://LOCALHOST./',
      'https://api.localhost/',
      'https://127.0.0.1/',
      'https://127.1/', // the URL parser writes it 127.0.0.1
      'https://2130706433/', // 127.0.0.1 as one number
      'https://0x7f000001/',
      'https://0.0.0.0/',
      'https://10.1.2.3/',
      'https://172.16.0.1/',
      'https://192.168.1.1/',
      'https://169.254.169.254/latest/meta-data/', // cloud metadata, link-local
      'https://100.64.0.1/', // carrier-grade NAT
      'https://100.100.100.200/', // Alibaba's metadata, inside CGNAT
      'https://[::1]/',
      'https://[fe80::1]/',
      'https://[fd00:ec2::254]/', // AWS metadata over IPv6, unique-local
      'https://[::ffff:127.0.0.1]/',
      'https://[::ffff:10.0.0.1]/',
      'https://metadata.google.internal/computeMetadata/v1/',
      'https://metadata/',
      'https://224.0.0.1/',
    ];
    for (const url of refused) {
      const refusal = checkChannelTarget(webhook(url), { mode: 'production' });
      expect(refusal, url).toMatchObject({ ok: false, code: 'forbidden_target' });
      expect(refusal.ok ? '' : refusal.reason, url).toBeTruthy();
    }
  });

  it('takes only https://hooks.slack.com/ for Slack in production', () => {
    expect(verdict(slack('https://hooks.slack.com/services/T000/B000/XXXX'), 'production')).toBe('ok');
    expect(verdict(slack('https://HOOKS.slack.com/services/T000/B000/XXXX'), 'production')).toBe('ok');
    for (const url of [
      'http://hooks.slack.com/services/T000/B000/XXXX',
      'https://hooks.slack.com.evil.example/services/x',
      'https://evil.example/?https://hooks.slack.com/',
      'https://hooks.slack.com@evil.example/services/x',
      'https://hooks.slack.com:8443/services/x',
      'https://127.0.0.1/services/x',
    ]) {
      expect(verdict(slack(url), 'production'), url).toBe('forbidden_target');
    }
  });

  it('allows http and loopback in local mode (the local fakes), still not private networks', () => {
    expect(verdict(webhook('http://127.0.0.1:9999/hook'), 'local')).toBe('ok');
    expect(verdict(webhook('http://localhost:9999/hook'), 'local')).toBe('ok');
    expect(verdict(webhook('http://[::1]:9999/hook'), 'local')).toBe('ok');
    expect(verdict(slack('http://127.0.0.1:9999/slack/T/B/X'), 'local')).toBe('ok');
    expect(verdict(webhook('http://example.com/hook'), 'local')).toBe('ok');
    expect(verdict(webhook('http://10.0.0.1/hook'), 'local')).toBe('forbidden_target');
    expect(verdict(webhook('http://169.254.169.254/'), 'local')).toBe('forbidden_target');
    expect(verdict(slack('https://evil.example/services/x'), 'local')).toBe('forbidden_target');
  });
});
