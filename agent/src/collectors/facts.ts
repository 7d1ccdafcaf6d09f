import { readFile } from 'node:fs/promises';
import os from 'node:os';
import type { HostFacts } from '@pulsewire/protocol';
import si from 'systeminformation';

export function factsFromSi(input: {
  osInfo: Pick<si.Systeminformation.OsData, 'distro' | 'release' | 'kernel' | 'arch' | 'platform'>;
  cpu: Pick<si.Systeminformation.CpuData, 'manufacturer' | 'brand' | 'cores'>;
  memTotal: number;
  uptimeSeconds: number;
  now: number;
  hostname: string;
}): HostFacts {
  const { osInfo, cpu } = input;
  const osName = [osInfo.distro || osInfo.platform, osInfo.release].filter(Boolean).join(' ');
  return {
    os: osName.slice(0, 200),
    kernel: osInfo.kernel.slice(0, 200),
    arch: osInfo.arch.slice(0, 32),
    cpuModel: [cpu.manufacturer, cpu.brand].filter(Boolean).join(' ').slice(0, 200),
    cores: cpu.cores,
    memTotal: input.memTotal,
    // Rounded to the second so that the facts of one boot compare equal across agent restarts.
    bootTime: Math.round((input.now - input.uptimeSeconds * 1000) / 1000) * 1000,
    hostname: input.hostname.slice(0, 255),
  };
}

/** Read once per agent start: osInfo and cpu spawn several processes, and none of this changes without a reboot. */
export async function collectFacts(now = Date.now()): Promise<HostFacts> {
  const [osInfo, cpu] = await Promise.all([si.osInfo(), si.cpu()]);
  return factsFromSi({
    osInfo,
    cpu,
    memTotal: os.totalmem(),
    uptimeSeconds: os.uptime(),
    now,
    hostname: os.hostname(),
  });
}

/**
 * A stable identity for this machine, so enrolling it again finds the same host: systemd's machine-id, else
 * what systeminformation derives from the OS.
 */
export async function machineId(): Promise<string> {
  for (const file of ['/etc/machine-id', '/var/lib/dbus/machine-id']) {
    const id = (await readFile(file, 'utf8').catch(() => '')).trim();
    if (id) return id.slice(0, 128);
  }
  const uuid = await si.uuid().catch(() => undefined);
  return (uuid?.os || uuid?.hardware || os.hostname()).slice(0, 128);
}
