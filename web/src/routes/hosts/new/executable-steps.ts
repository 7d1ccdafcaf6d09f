import type { SetupStep } from './onboarding.ts';

/** Where the dashboard serves the self-contained agent: `-x64` or `-arm64`, with a `.sha256` beside each. */
export const EXECUTABLE_DOWNLOAD_PATH = '/downloads/pulsewire-agent-linux-';

/** `uname -m` as the download names call it (x86_64 → x64, aarch64 → arm64), worked out by the machine's shell. */
const ARCH = `$(uname -m | sed 's/x86_64/x64/;s/aarch64/arm64/')`;

/**
 * The self-contained agent: one executable for the machine's architecture (the shell picks it, the page
 * detects nothing), checked against its checksum, that needs no Node.js. The key goes in through the
 * environment, so it stays out of the command line other users can list.
 */
export function executableSteps(origin: string, apiKey: string): SetupStep[] {
  const url = `${origin}${EXECUTABLE_DOWNLOAD_PATH}`;
  return [
    {
      id: 'exe-download',
      title: 'Download the agent',
      detail:
        'One executable for Linux on x86-64 or ARM64 that needs nothing else installed; checked against its SHA-256.',
      // Plain POSIX sh: no brace expansion, so it pastes into dash as well as bash.
      command:
        `ARCH=${ARCH} && curl -fsSL --remote-name-all ${url}$ARCH ${url}$ARCH.sha256 ` +
        '&& sha256sum -c pulsewire-agent-linux-$ARCH.sha256 && mv pulsewire-agent-linux-$ARCH pulsewire-agent ' +
        '&& chmod +x pulsewire-agent',
    },
    {
      id: 'exe-enroll',
      title: 'Enroll this machine',
      detail:
        'Generates the host’s signing key, registers it with this dashboard and writes ~/.config/pulsewire/agent.json (mode 0600).',
      command: `PULSEWIRE_KEY=${apiKey} ./pulsewire-agent enroll --url ${origin}`,
    },
    {
      id: 'exe-run',
      title: 'Start sending metrics',
      detail:
        'Collects every 10 seconds and pushes every 30. As a service instead: sudo install -m 0755 pulsewire-agent ' +
        '/usr/local/bin/, enroll with sudo and --config /etc/pulsewire/agent.json, then sudo pulsewire-agent ' +
        'install-service --config /etc/pulsewire/agent.json.',
      command: './pulsewire-agent run',
    },
  ];
}
