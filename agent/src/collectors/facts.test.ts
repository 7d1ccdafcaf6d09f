import { HostFacts } from '@pulsewire/protocol';
import { describe, expect, it } from 'vitest';
import { factsFromSi, machineId, osFromRelease, readOsAndCpu } from './facts.ts';
import cpu from './fixtures/si-cpu.json' with { type: 'json' };
import osInfo from './fixtures/si-os-info.json' with { type: 'json' };

describe('host facts', () => {
  it('maps recorded systeminformation osInfo() and cpu()', () => {
    const facts = factsFromSi({
      osInfo,
      cpu,
      memTotal: 25_276_063_744,
      uptimeSeconds: 9012.93,
      now: 1_800_000_000_400,
      hostname: 'vm',
    });
    expect(facts).toEqual({
      os: 'Debian GNU/Linux 12',
      kernel: osInfo.kernel,
      arch: 'x64',
      cpuModel: 'AMD EPYC',
      cores: 2,
      memTotal: 25_276_063_744,
      bootTime: 1_799_990_987_000,
      hostname: 'vm',
    });
    expect(HostFacts.safeParse(facts).success).toBe(true);
  });

  it('reads distro and release from os-release as systeminformation does', () => {
    const debian =
      'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\nID=debian\n';
    expect(osFromRelease(debian)).toEqual({ distro: 'Debian GNU/Linux', release: '12' });
    expect(osFromRelease("NAME='Arch Linux'\nID=arch\n")).toEqual({ distro: 'Arch Linux', release: '' });
    expect(osFromRelease('ID=unknown\n')).toBeUndefined();
  });

  it('on Linux describes the machine as systeminformation would, without loading it', async () => {
    if (process.platform !== 'linux') return;
    const native = await readOsAndCpu(true);
    const fallback = await readOsAndCpu(false);
    expect(native.osInfo).toEqual({
      distro: fallback.osInfo.distro,
      release: fallback.osInfo.release,
      kernel: fallback.osInfo.kernel,
      arch: fallback.osInfo.arch,
      platform: 'linux',
    });
    expect(native.cpu.cores).toBe(fallback.cpu.cores);
    expect(native.cpu.brand.length).toBeGreaterThan(0);
  });

  it('finds a machine id', async () => {
    expect((await machineId()).length).toBeGreaterThan(0);
  });
});
