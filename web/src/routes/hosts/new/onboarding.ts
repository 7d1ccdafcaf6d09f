import type { HostSummary } from '#lib/api/hosts.ts';

/** Name of the key the onboarding page creates: `Agent on 23 Nov 2026`. */
export function agentKeyName(date: Date): string {
  const day = new Intl.DateTimeFormat('en-GB', { day: 'numeric', month: 'short', year: 'numeric' }).format(date);
  return `Agent on ${day}`;
}

export interface SetupStep {
  id: 'install' | 'enroll' | 'run';
  title: string;
  detail: string;
  command: string;
}

/**
 * What a user runs on the machine. The agent is not published to a registry: it runs from a checkout of
 * the Pulsewire repository with Node.js ≥ 22 (which runs its TypeScript sources directly) and pnpm.
 */
export function setupSteps(origin: string, apiKey: string): SetupStep[] {
  return [
    {
      id: 'install',
      title: 'Install the agent',
      detail: 'In a checkout of the Pulsewire repository, with Node.js 22 or newer and pnpm:',
      command: 'pnpm install --frozen-lockfile',
    },
    {
      id: 'enroll',
      title: 'Enroll this machine',
      detail:
        'Generates the host’s signing key, registers it with this dashboard and writes ~/.config/pulsewire/agent.json (mode 0600).',
      command: `node agent/src/cli.ts enroll --key ${apiKey} --url ${origin}`,
    },
    {
      id: 'run',
      title: 'Start sending metrics',
      detail: 'Collects every 10 seconds and pushes every 30 (every second while someone watches the host live).',
      command: 'node agent/src/cli.ts run',
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
