import path from 'node:path';
import type { ResolvedConfig } from '../config/load.ts';
import { readdir } from '../fs.ts';
import { type AgentStatus, readStatus } from '../state-file.ts';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function ago(at: number | undefined, now: number): string {
  if (at === undefined) return 'never';
  const seconds = Math.round((now - at) / 1000);
  return seconds < 120 ? `${seconds} s ago` : `${Math.round(seconds / 60)} min ago`;
}

export interface StatusReport {
  enrolled: boolean;
  configPath: string;
  hostId?: string;
  url?: string;
  stateDir: string;
  running: boolean;
  spoolDepth: number;
  agent?: AgentStatus;
}

export async function statusReport(config: ResolvedConfig): Promise<StatusReport> {
  const agent = await readStatus(config.stateDir);
  const spooled = await readdir(path.join(config.stateDir, 'spool')).catch(() => [] as string[]);
  return {
    enrolled: config.exists && !!config.hostId && !!config.privateKey,
    configPath: config.path,
    ...(config.hostId ? { hostId: config.hostId } : {}),
    ...(config.url ? { url: config.url } : {}),
    stateDir: config.stateDir,
    running: !!agent && agent.state !== 'stopped' && alive(agent.pid),
    spoolDepth: spooled.filter((name) => name.endsWith('.json.gz')).length,
    ...(agent ? { agent } : {}),
  };
}

export function formatStatus(report: StatusReport, now = Date.now()): string {
  const lines = [
    `enrolled:    ${report.enrolled ? `yes, host ${report.hostId}` : 'no (run `PULSEWIRE_KEY=… pulsewire-agent enroll`)'}`,
    `config:      ${report.configPath}`,
  ];
  if (report.url) lines.push(`service:     ${report.url}`);
  lines.push(
    `agent:       ${report.running ? `running (pid ${report.agent?.pid}, ${report.agent?.state})` : 'not running'}`,
  );
  const a = report.agent;
  lines.push(`last push:   ${ago(a?.lastPushAt, now)}`);
  lines.push(
    `queue:       ${a?.queueDepth ?? 0} batches waiting, ${report.spoolDepth} on disk (${report.stateDir}/spool)`,
  );
  if (a?.cadence) {
    lines.push(
      `cadence:     collect ${a.cadence.collectIntervalMs / 1000} s, push ${a.cadence.pushIntervalMs / 1000} s${a.cadence.live ? ' (live)' : ''}`,
    );
  }
  if (a?.control) {
    const meaning =
      a.control === 'open' ? 'live view requests arrive at once' : 'push answers set the cadence meanwhile';
    lines.push(`control:     ${a.control} (${meaning})`);
  }
  if (a?.delivered) {
    lines.push(
      `delivered:   ${a.delivered.socket} batches on the control socket, ${a.delivered.http} over HTTP since start`,
    );
  }
  if (a?.lastError) {
    lines.push(
      `last error:  ${a.lastError.code}${a.lastError.status ? ` (${a.lastError.status})` : ''}: ${a.lastError.message} — ${ago(a.lastError.at, now)}`,
    );
  }
  for (const [name, why] of Object.entries(a?.collectorsFailing ?? {})) lines.push(`collector:   ${name} off: ${why}`);
  return lines.join('\n');
}
