import path from 'node:path';
import { ConfigError, type ResolvedConfig } from '../config/load.ts';
import { agentCommand, IS_EXECUTABLE } from '../entry.ts';
import { EXIT_CONFIG, EXIT_REVOKED } from '../exit-codes.ts';
import { mkdir, writeFile } from '../fs.ts';
import { NODE_RUN_ENV, NODE_RUN_FLAGS } from '../node-tuning.ts';

export const DEFAULT_UNIT_PATH = '/etc/systemd/system/pulsewire-agent.service';

/**
 * The unit for the Node variant runs node with the agent's tuning (node-tuning.ts) on its command line and in
 * its environment, so the agent starts tuned instead of re-executing itself, on any Node ≥ 22. The executable
 * has its own settings built in.
 */
export function systemdUnit(
  config: ResolvedConfig,
  options: { user?: string; command?: readonly string[] } = {},
): string {
  // The same program that was asked to install the service: the executable, or node and the script.
  const exec = [...(options.command ?? agentCommand(undefined, NODE_RUN_FLAGS)), 'run', '--config', config.path];
  const quoted = exec.map((part) => (/[\s"\\]/.test(part) ? JSON.stringify(part) : part)).join(' ');
  const environment = !IS_EXECUTABLE
    ? Object.entries(NODE_RUN_ENV)
        .map(([name, value]) => `Environment=${name}=${value}\n`)
        .join('')
    : '';
  return `[Unit]
Description=Pulsewire monitoring agent
After=network-online.target
Wants=network-online.target

[Service]
Type=simple
ExecStart=${quoted}
${environment}${options.user ? `User=${options.user}\n` : ''}# SIGTERM pushes what it can and spools the rest; give it time to do so.
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
