import type { HostSummary } from '@pulsewire/protocol';
import { describe, expect, it } from 'vitest';
import { agentKeyName, baselineOf, newlyReporting, serviceSteps, setupSteps } from './onboarding.ts';

const host = (over: Partial<HostSummary>): HostSummary => ({
  id: '00000000-0000-4000-8000-000000000001',
  name: 'web-1',
  status: 'online',
  lastSeenAt: '2026-11-23T12:00:00.000Z',
  labels: {},
  os: 'Debian GNU/Linux 12',
  agentVersion: '0.1.0',
  glance: null,
  revokedAt: null,
  ...over,
});

describe('onboarding', () => {
  it('names the key after the day', () => {
    expect(agentKeyName(new Date('2026-11-23T12:00:00Z'))).toBe('Agent on 23 Nov 2026');
  });

  it('downloads the agent from this origin and puts the key into the enroll command', () => {
    const steps = setupSteps('http://127.0.0.1:8787', 'pw_live_abc');
    expect(steps.map((s) => s.id)).toEqual(['install', 'enroll', 'run']);
    expect(steps[0]?.command).toBe(
      'curl -fsSLo pulsewire-agent.mjs http://127.0.0.1:8787/downloads/pulsewire-agent.mjs',
    );
    // The key in the environment, not in the agent's arguments (which `ps` shows every user).
    expect(steps[1]?.command).toBe(
      'PULSEWIRE_KEY=pw_live_abc node pulsewire-agent.mjs enroll --url http://127.0.0.1:8787',
    );
    expect(steps.every((s) => !s.command.includes('--key '))).toBe(true);
    expect(steps[2]?.command).toBe('node pulsewire-agent.mjs run');
  });

  it('gives a systemd variant that enrolls, installs and starts with the same system-wide config', () => {
    const steps = serviceSteps('https://pulsewire.example', 'pw_live_abc');
    const config = '--config /etc/pulsewire/agent.json';
    expect(steps[0]?.command).toContain('/usr/local/lib/pulsewire/pulsewire-agent.mjs');
    // Through a pipe from the shell's printf builtin: neither sudo's nor the agent's arguments hold the key.
    expect(steps[1]?.command).toBe(
      `printf '%s\\n' 'pw_live_abc' | sudo node /usr/local/lib/pulsewire/pulsewire-agent.mjs enroll --key-file - --url https://pulsewire.example ${config}`,
    );
    expect(steps.every((s) => !s.command.includes('--key '))).toBe(true);
    expect(steps[2]?.command).toContain(`install-service ${config}`);
    expect(steps[2]?.command).toContain('systemctl enable --now pulsewire-agent.service');
  });

  it('notices a host that starts reporting after the page opened', () => {
    const old = host({ id: '00000000-0000-4000-8000-00000000000a', name: 'old' });
    const baseline = baselineOf([
      old,
      host({ id: '00000000-0000-4000-8000-00000000000b', lastSeenAt: null, status: 'offline' }),
    ]);
    expect(newlyReporting(baseline, [old])).toBeUndefined();
    // Enrolled but no batch yet: not reporting.
    const fresh = host({
      id: '00000000-0000-4000-8000-00000000000c',
      name: 'fresh',
      lastSeenAt: null,
      status: 'offline',
    });
    expect(newlyReporting(baseline, [old, fresh])).toBeUndefined();
    expect(
      newlyReporting(baseline, [old, { ...fresh, lastSeenAt: '2026-11-23T12:00:05.000Z', status: 'online' }])?.name,
    ).toBe('fresh');
    // Known but silent when the page opened, reporting now.
    expect(
      newlyReporting(baseline, [old, host({ id: '00000000-0000-4000-8000-00000000000b', name: 'back' })])?.name,
    ).toBe('back');
  });
});
