import type { HostSummary } from '#lib/api/hosts.ts';

/** Name of the key the onboarding page creates: `Agent on 23 Nov 2026`. */
export function agentKeyName(date: Date): string {
  const day = new Intl.DateTimeFormat('en-GB', { day: 'numeric', month: 'short', year: 'numeric' }).format(date);
  return `Agent on ${day}`;
}

/** Where the dashboard serves the single-file agent (root `pnpm build` puts it there). */
export const AGENT_DOWNLOAD_PATH = '/downloads/pulsewire-agent.mjs';
/** Where the service variant installs the agent and keeps its config. */
const SERVICE_AGENT = '/usr/local/lib/pulsewire/pulsewire-agent.mjs';
const SERVICE_CONFIG = '/etc/pulsewire/agent.json';

export interface SetupStep {
  id: string;
  title: string;
  detail: string;
  command: string;
}

/**
 * What a user runs on the machine: download the agent (one file, served by this dashboard, needing
 * only Node.js ≥ 22), enroll it with the key, run it. Nothing to clone, nothing to install.
 */
export function setupSteps(origin: string, apiKey: string): SetupStep[] {
  return [
    {
      id: 'install',
      title: 'Download the agent',
      detail:
        'One file with everything it needs; it runs on Linux with Node.js 22 or newer (check with node --version).',
      command: `curl -fsSLo pulsewire-agent.mjs ${origin}${AGENT_DOWNLOAD_PATH}`,
    },
    {
      id: 'enroll',
      title: 'Enroll this machine',
      detail:
        'Generates the host’s signing key, registers it with this dashboard and writes ~/.config/pulsewire/agent.json (mode 0600). The key goes in through the environment, so other users of the machine cannot read it in the process list.',
      command: `PULSEWIRE_KEY=${apiKey} node pulsewire-agent.mjs enroll --url ${origin}`,
    },
    {
      id: 'run',
      title: 'Start sending metrics',
      detail: 'Collects every 10 seconds and pushes every 30 (every second while someone watches the host live).',
      command: 'node pulsewire-agent.mjs run',
    },
  ];
}

/**
 * The same, as a systemd service that starts at boot: the agent under /usr/local/lib, its config in
 * /etc/pulsewire (the service's state goes to /var/lib/pulsewire). Enrolling again from the same
 * machine (same config, same key pair) keeps the same host. `sudo VAR=… cmd` would put the key in sudo's
 * own arguments, so here it goes through a pipe.
 */
export function serviceSteps(origin: string, apiKey: string): SetupStep[] {
  const agent = `sudo node ${SERVICE_AGENT}`;
  return [
    {
      id: 'service-install',
      title: 'Install the agent for every user',
      detail: 'After downloading it as above:',
      command: `sudo install -D -m 0755 pulsewire-agent.mjs ${SERVICE_AGENT}`,
    },
    {
      id: 'service-enroll',
      title: 'Enroll with the system-wide config',
      detail: `Writes ${SERVICE_CONFIG} (mode 0600, readable by root only). The key reaches the agent on standard input (printf is built into the shell), never on a command line that ps would show.`,
      command: `printf '%s\\n' '${apiKey}' | ${agent} enroll --key-file - --url ${origin} --config ${SERVICE_CONFIG}`,
    },
    {
      id: 'service-start',
      title: 'Install and start the service',
      detail: 'Writes /etc/systemd/system/pulsewire-agent.service, then starts it now and at every boot.',
      command: `${agent} install-service --config ${SERVICE_CONFIG} && sudo systemctl daemon-reload && sudo systemctl enable --now pulsewire-agent.service`,
    },
  ];
}

/** Hosts as they were when the page opened: id → reporting (has sent a batch and is online). */
export type Baseline = ReadonlyMap<string, boolean>;

export function baselineOf(hosts: readonly HostSummary[]): Baseline {
  return new Map(hosts.map((h) => [h.id, isReporting(h)]));
}

function isReporting(host: HostSummary): boolean {
  return host.lastSeenAt !== null && host.status === 'online';
}

/** A host that reports now but did not when the page opened (new, never seen, or back from stale/offline). */
export function newlyReporting(baseline: Baseline, hosts: readonly HostSummary[]): HostSummary | undefined {
  return hosts.find((h) => isReporting(h) && baseline.get(h.id) !== true);
}
