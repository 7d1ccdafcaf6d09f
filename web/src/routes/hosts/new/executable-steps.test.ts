import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { executableSteps } from './executable-steps.ts';

describe('onboarding with the self-contained executable', () => {
  const steps = executableSteps('https://pulsewire.example', 'pw_live_abc');

  it('downloads the executable for the machine’s architecture with its checksum, checks it and makes it runnable', () => {
    expect(steps.map((s) => s.id)).toEqual(['exe-download', 'exe-enroll', 'exe-run']);
    const download = steps[0]?.command ?? '';
    expect(download).toContain(
      'curl -fsSL --remote-name-all https://pulsewire.example/downloads/pulsewire-agent-linux-$ARCH https://pulsewire.example/downloads/pulsewire-agent-linux-$ARCH.sha256',
    );
    expect(download).toContain('sha256sum -c pulsewire-agent-linux-$ARCH.sha256');
    expect(download).toContain('chmod +x pulsewire-agent');
  });

  it('names the architectures as the download files do, in a plain POSIX shell', () => {
    const arch = (steps[0]?.command ?? '').split(' && ')[0] ?? '';
    for (const [machine, name] of [
      ['x86_64', 'x64'],
      ['aarch64', 'arm64'],
    ]) {
      const script = `uname() { echo ${machine}; }; ${arch}; echo "$ARCH"`;
      expect(execFileSync('sh', ['-c', script], { encoding: 'utf8' }).trim()).toBe(name);
    }
  });

  it('enrolls with the key in the environment and runs the executable itself', () => {
    expect(steps[1]?.command).toBe(
      'PULSEWIRE_KEY=pw_live_abc ./pulsewire-agent enroll --url https://pulsewire.example',
    );
    expect(steps[2]?.command).toBe('./pulsewire-agent run');
  });
});
