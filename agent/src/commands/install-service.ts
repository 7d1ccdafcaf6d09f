import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ConfigError, type ResolvedConfig } from '../config/load.ts';
import { agentCommand } from '../entry.ts';
import { EXIT_CONFIG, EXIT_REVOKED } from '../exit-codes.ts';

export const DEFAULT_UNIT_PATH = '/etc/systemd/system/pulsewire-agent.service';

/**
 * V8's young generation grows to 16 MiB semi-spaces under the allocation bursts of start-up and keeps them;
 * the agent allocates little once running, and 1 MiB keeps ~3-4 MB less resident at the same CPU per cycle
 * (measured with scripts/footprint.ts, docs/decisions.md). The executable has its own settings built in.
 */
export const SERVICE_NODE_FLAGS = ['--max-semi-space-size=1'];

export function systemdUnit(
  config: ResolvedConfig,
  options: { user?: string; command?: readonly string[] } = {},
): string {
  // The same program that was asked to install the service: the executable, or node and the script.
  const exec = [...(options.command ?? agentCommand(undefined, SERVICE_NODE_FLAGS)), 'run', '--config', config.path];
  const quoted = exec.map((part) => (/[\s"\\]/.test(part) ? JSON.stringify(part) : part)).join(' ');
  return `[Unit]
Description=Pulsewire monitoring agent
After=network-online.target
Wants=network-online.target

[Service]
Type=simple
ExecStart=${quoted}
${options.user ? `User=${options.user}\n` : ''}# SIGTERM pushes what it can and spools the rest; give it time to do so.
KillSignal=SIGTERM
TimeoutStopSec=30
Restart=on-failure
RestartSec=5
# A bad config or a revoked host will not get better by restarting.
RestartPreventExitStatus=${EXIT_CONFIG} ${EXIT_REVOKED}
NoNewPrivileges=yes
ProtectSystem=full
ReadWritePaths=${config.stateDir}

[Install]
WantedBy=multi-user.target
`;
}

/** Writes the unit (to `unitPath`, overridable for tests) and says what to do next; it does not run systemctl. */
export async function installService(
  config: ResolvedConfig,
  options: { unitPath?: string; user?: string },
  out: (line: string) => void,
): Promise<void> {
  if (!config.exists || !config.hostId) {
    throw new ConfigError(
      `Enroll first: no enrolled config at ${config.path} (PULSEWIRE_KEY=… pulsewire-agent enroll …).`,
    );
  }
  const unitPath = options.unitPath ?? DEFAULT_UNIT_PATH;
  const unit = systemdUnit(config, options.user ? { user: options.user } : {});
  await mkdir(path.dirname(unitPath), { recursive: true });
  await mkdir(config.stateDir, { recursive: true, mode: 0o700 });
  await writeFile(unitPath, unit, { mode: 0o644 });
  out(`Wrote the systemd unit ${unitPath}:`);
  out(
    `  runs   ${unit
      .split('\n')
      .find((line) => line.startsWith('ExecStart='))
      ?.slice('ExecStart='.length)}`,
  );
  out(`  state  ${config.stateDir}`);
  out('Start it now and at every boot:');
  out(`  sudo systemctl daemon-reload && sudo systemctl enable --now ${path.basename(unitPath)}`);
}
