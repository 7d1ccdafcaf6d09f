import { HostFacts } from '@pulsewire/protocol';
import { describe, expect, it } from 'vitest';
import { factsFromSi, machineId } from './facts.ts';
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

  it('finds a machine id', async () => {
    expect((await machineId()).length).toBeGreaterThan(0);
  });
});
