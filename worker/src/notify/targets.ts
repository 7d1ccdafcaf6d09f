import { type ChannelConfig, SLACK_WEBHOOK_PREFIX } from '@pulsewire/protocol';
import ipaddr from 'ipaddr.js';

/**
 * Where Slack and webhook channels may send (SSRF guard). Checked when a channel is created or
 * edited (the API answers `forbidden_target`) and again before every attempt, so a target that was
 * stored under looser rules is never reached. Pure: the API imports it without the tenant object.
 *
 * The URL parser's normalisation does the hard part: `http://0x7f000001/`, `http://2130706433/`,
 * `http://0177.0.0.1/` and `http://127.1/` all come out as `127.0.0.1`, and `[::ffff:127.0.0.1]` as
 * `[::ffff:7f00:1]`, so only the canonical forms need classifying. Names are not resolved (Workers
 * have no DNS API); a name pointing at a private address is stopped by the platform's egress, not here.
 */

export type TargetMode = 'production' | 'local';
export type TargetCheck = { ok: true; url: URL } | { ok: false; code: 'forbidden_target'; reason: string };

/** Host names that lead to a cloud metadata service or to this machine whatever DNS says. */
const forbiddenNames = new Set(['localhost', 'metadata.google.internal', 'metadata', 'instance-data']);

const forbidden = (reason: string): TargetCheck => ({ ok: false, code: 'forbidden_target', reason });

/** A webhook target: https to a public address in production; local mode also allows http and loopback. */
export function checkTarget(raw: string, options: { mode: TargetMode }): TargetCheck {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return forbidden('not a URL');
  }
  const local = options.mode === 'local';
  if (url.protocol !== 'https:' && !(local && url.protocol === 'http:')) {
    return forbidden(local ? 'only http and https URLs can be targets' : 'only https URLs can be targets');
  }
  if (url.username || url.password) return forbidden('credentials in the URL are not allowed; use the signing secret');
  // A trailing dot names the same host (`localhost.`), so it must not dodge the name checks.
  const host = url.hostname.replace(/\.$/, '').toLowerCase();
  if (host === '') return forbidden('the URL has no host');
  if (host.startsWith('[')) return checkAddress(host.slice(1, -1), local, url);
  if (ipaddr.IPv4.isValidFourPartDecimal(host)) return checkAddress(host, local, url);
  if (forbiddenNames.has(host) || host.endsWith('.localhost')) {
    return local && (host === 'localhost' || host.endsWith('.localhost'))
      ? { ok: true, url }
      : forbidden(`${host} is not a public host`);
  }
  return { ok: true, url };
}

function checkAddress(text: string, local: boolean, url: URL): TargetCheck {
  let address: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    address = ipaddr.parse(text);
  } catch {
    return forbidden('not a valid IP address');
  }
  const range = address.range();
  if (range === 'unicast') return { ok: true, url };
  if (local && range === 'loopback') return { ok: true, url };
  // ipv4Mapped, 6to4, NAT64 (rfc6052) and Teredo embed an IPv4 address: refused whole rather than
  // unwrapped, since a public service has no reason to be named that way.
  return forbidden(`${address.toString()} is a ${describe(range)} address`);
}

const rangeNames: Record<string, string> = {
  loopback: 'loopback',
  private: 'private',
  uniqueLocal: 'private (unique local)',
  linkLocal: 'link-local',
  carrierGradeNat: 'carrier-grade NAT',
  unspecified: 'unspecified',
  ipv4Mapped: 'IPv4-mapped',
  broadcast: 'broadcast',
  multicast: 'multicast',
};
const describe = (range: string) => rangeNames[range] ?? `reserved (${range})`;

/** A Slack incoming webhook: `https://hooks.slack.com/…`; local mode also allows loopback (the fake). */
export function checkSlackUrl(raw: string, options: { mode: TargetMode }): TargetCheck {
  const target = checkTarget(raw, options);
  if (!target.ok) return target;
  // Compared on the parsed URL, so `https:\\hooks.slack.com\…` or an upper-case host cannot slip past.
  if (target.url.href.startsWith(SLACK_WEBHOOK_PREFIX) && !target.url.port) return target;
  if (options.mode === 'local' && isLoopback(target.url)) return target;
  return forbidden(`a Slack incoming webhook URL starts with ${SLACK_WEBHOOK_PREFIX}`);
}

function isLoopback(url: URL): boolean {
  const host = url.hostname.replace(/\.$/, '').toLowerCase();
  if (host === 'localhost' || host.endsWith('.localhost')) return true;
  const bare = host.startsWith('[') ? host.slice(1, -1) : host;
  return ipaddr.isValid(bare) && ipaddr.parse(bare).range() === 'loopback';
}

/** The check for a channel's configuration; e-mail channels have no target. */
export function checkChannelTarget(
  config: ChannelConfig,
  options: { mode: TargetMode },
): { ok: true } | { ok: false; code: 'forbidden_target'; reason: string } {
  if (config.type === 'slack') return checkSlackUrl(config.webhookUrl, options);
  if (config.type === 'webhook') return checkTarget(config.url, options);
  return { ok: true };
}
