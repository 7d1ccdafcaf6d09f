import { type ChannelConfig, SLACK_WEBHOOK_PREFIX } from '@pulsewire/protocol';
import ipaddr from 'ipaddr.js';

/**
 * Where a Slack or webhook channel may send, checked when one is created or edited (SSRF guard):
 * production takes https to public addresses only; local mode also takes http and loopback, for the
 * local fakes. Names are not resolved here (Workers have no DNS API): the notifier checks again at
 * send time. The WHATWG URL parser already normalises `http://2130706433/`, `0x7f.1` and friends to
 * dotted decimal, so only canonical forms need classifying.
 *
 * The notifier has its own copy in worker/src/notify/targets.ts; the integrator keeps one of them.
 */

export type TargetMode = 'local' | 'production';
export interface ForbiddenTarget {
  code: 'forbidden_target';
  message: string;
  /** The config field at fault, relative to the channel body. */
  path: string;
}

/** Names that reach this machine or a cloud metadata service whatever DNS says. */
const forbiddenNames = new Set(['localhost', 'metadata', 'metadata.google.internal', 'instance-data']);

export function checkChannelTarget(config: ChannelConfig, mode: TargetMode): ForbiddenTarget | null {
  if (config.type === 'email') return null;
  const field = config.type === 'slack' ? 'webhookUrl' : 'url';
  const raw = config.type === 'slack' ? config.webhookUrl : config.url;
  const refuse = (message: string): ForbiddenTarget => ({
    code: 'forbidden_target',
    message,
    path: `config.${field}`,
  });

  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return refuse('not a URL');
  }
  const local = mode === 'local';
  const loopback = isLoopback(url);
  if (config.type === 'slack' && !(local && loopback)) {
    // Compared on the parsed URL: `HTTPS://Hooks.Slack.com/…` is fine, `https:\\hooks.slack.com@evil/` is not.
    if (!url.href.startsWith(SLACK_WEBHOOK_PREFIX) || url.port || url.username || url.password) {
      return refuse(`a Slack incoming webhook URL starts with ${SLACK_WEBHOOK_PREFIX}`);
    }
    return null;
  }
  if (url.protocol !== 'https:' && !(local && url.protocol === 'http:')) {
    return refuse(local ? 'only http and https URLs can be targets' : 'only https URLs can be targets');
  }
  if (url.username || url.password) return refuse('credentials in the URL are not allowed; use the signing secret');
  if (local && loopback) return null;
  const host = hostOf(url);
  if (host === '') return refuse('the URL has no host');
  if (ipaddr.isValid(host)) {
    const range = ipaddr.parse(host).range();
    // Only plain unicast: loopback, private, link-local (169.254.169.254 metadata), CGNAT, unique-local,
    // and forms that embed an IPv4 address (mapped, 6to4, Teredo, NAT64) are refused whole.
    return range === 'unicast' ? null : refuse(`${host} is not a public address (${range})`);
  }
  if (forbiddenNames.has(host) || host.endsWith('.localhost') || host.endsWith('.internal')) {
    return refuse(`${host} is not a public host`);
  }
  return null;
}

/** Lower-cased host without IPv6 brackets or a trailing dot (`localhost.` is `localhost`). */
function hostOf(url: URL): string {
  const host = url.hostname.toLowerCase().replace(/\.$/, '');
  return host.startsWith('[') ? host.slice(1, -1) : host;
}

function isLoopback(url: URL): boolean {
  const host = hostOf(url);
  if (host === 'localhost' || host.endsWith('.localhost')) return true;
  return ipaddr.isValid(host) && ipaddr.parse(host).range() === 'loopback';
}
