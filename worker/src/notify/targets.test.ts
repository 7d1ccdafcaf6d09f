import { describe, expect, it } from 'vitest';
import { checkChannelTarget, checkSlackUrl, checkTarget } from './targets.ts';

const production = { mode: 'production' } as const;
const local = { mode: 'local' } as const;

describe('webhook targets in production', () => {
  const hostile = [
    'http://example.com/hook', // not https
    'ftp://example.com/hook',
    'javascript:alert(1)',
    'not a url',
    'https://127.0.0.1/',
    'https://127.1/', // short form of loopback
    'https://2130706433/', // decimal loopback
    'https://0x7f000001/', // hex loopback
    'https://0177.0.0.1/', // octal loopback
    'https://0x7f.1/',
    'https://0/', // 0.0.0.0
    'https://0.0.0.0/',
    'https://[::]/',
    'https://[::1]/',
    'https://[::ffff:127.0.0.1]/', // IPv4-mapped IPv6
    'https://[::ffff:8.8.8.8]/', // mapped, even to a public address
    'https://[::ffff:a9fe:a9fe]/', // mapped metadata address
    'https://[2002:7f00:1::]/', // 6to4 wrapping loopback
    'https://[64:ff9b::a9fe:a9fe]/', // NAT64 wrapping metadata
    'https://10.0.0.5/',
    'https://172.16.0.1/',
    'https://172.31.255.255/',
    'https://192.168.1.1/',
    'https://100.64.0.1/', // CGNAT
    'https://169.254.169.254/latest/meta-data/', // cloud metadata
    'https://169.254.1.1/',
    'https://[fd00:ec2::254]/', // AWS IPv6 metadata
    'https://[fc00::1]/',
    'https://[fe80::1]/',
    'https://224.0.0.1/',
    'https://255.255.255.255/',
    'https://metadata.google.internal/computeMetadata/v1/',
    'https://METADATA.GOOGLE.INTERNAL./',
    'https://localhost/',
    'https://localhost./',
    'https://api.localhost/',
    'https://user:pass@example.com/',
  ];
  it.each(hostile)('refuses %s', (url) => {
    const result = checkTarget(url, production);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.code).toBe('forbidden_target');
  });

  it.each([
    'https://example.com/hooks/pulsewire',
    'https://8.8.8.8/',
    'https://[2606:4700::1]/hook',
    'https://172.32.0.1/', // just outside 172.16/12
    'https://hooks.example.com:8443/x?y=1',
  ])('accepts %s', (url) => {
    expect(checkTarget(url, production).ok).toBe(true);
  });

  it('says why', () => {
    expect(checkTarget('https://0x7f000001/', production)).toMatchObject({ reason: '127.0.0.1 is a loopback address' });
    expect(checkTarget('http://example.com/', production)).toMatchObject({ reason: 'only https URLs can be targets' });
  });
});

describe('webhook targets in local mode', () => {
  it.each(['http://127.0.0.1:8788/hook', 'http://localhost:3000/', 'http://[::1]:9/', 'https://example.com/'])(
    'accepts %s',
    (url) => {
      expect(checkTarget(url, local).ok).toBe(true);
    },
  );
  it.each(['http://169.254.169.254/', 'http://10.0.0.1/', 'http://metadata.google.internal/', 'file:///etc/passwd'])(
    'still refuses %s',
    (url) => {
      expect(checkTarget(url, local).ok).toBe(false);
    },
  );
});

describe('Slack webhook URLs', () => {
  it.each([
    'https://hooks.slack.com/services/T000/B000/XXXX',
    'https:\\\\hooks.slack.com\\services\\T000\\B000\\XXXX', // normalised by the URL parser
  ])('accepts %s', (url) => {
    expect(checkSlackUrl(url, production).ok).toBe(true);
  });
  it.each([
    'http://hooks.slack.com/services/T000/B000/XXXX',
    'https://hooks.slack.com.evil.example/services/x',
    'https://evil.example/https://hooks.slack.com/',
    'https://hooks.slack.com:8443/services/x',
    'https://example.com/services/x',
    'http://127.0.0.1:9999/services/x',
  ])('refuses %s in production', (url) => {
    expect(checkSlackUrl(url, production).ok).toBe(false);
  });
  it('allows the loopback fake in local mode only', () => {
    expect(checkSlackUrl('http://127.0.0.1:9999/services/x', local).ok).toBe(true);
    expect(checkSlackUrl('http://example.com/services/x', local).ok).toBe(false);
  });
  it('checks a channel configuration by type', () => {
    expect(checkChannelTarget({ type: 'slack', webhookUrl: 'https://example.com/' }, production).ok).toBe(false);
    expect(checkChannelTarget({ type: 'webhook', url: 'https://10.1.2.3/' }, production).ok).toBe(false);
    expect(checkChannelTarget({ type: 'email', to: { kind: 'roles', roles: ['owner'] } }, production).ok).toBe(true);
  });
});
