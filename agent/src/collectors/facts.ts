import os from 'node:os';
import type { HostFacts } from '@pulsewire/protocol';
import type { Systeminformation } from 'systeminformation';
import { readFile } from '../fs.ts';
import { isLinux } from './proc.ts';
import { systeminformation } from './si.ts';

type OsFacts = Pick<Systeminformation.OsData, 'distro' | 'release' | 'kernel' | 'arch' | 'platform'>;
type CpuFacts = Pick<Systeminformation.CpuData, 'manufacturer' | 'brand' | 'cores'>;

export function factsFromSi(input: {
  osInfo: OsFacts;
  cpu: CpuFacts;
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

/** os-release's NAME and VERSION_ID, as systeminformation's osInfo reports distro and release; undefined without NAME. */
export function osFromRelease(text: string): Pick<OsFacts, 'distro' | 'release'> | undefined {
  const fields = new Map<string, string>();
  for (const line of text.split('\n')) {
    const match = /^([A-Z_]+)=(["']?)(.*)\2$/.exec(line.trim());
    if (match) fields.set(match[1] as string, (match[3] as string).replace(/\\(.)/g, '$1'));
  }
  const distro = fields.get('NAME');
  return distro ? { distro, release: fields.get('VERSION_ID') ?? '' } : undefined;
}

/**
 * On Linux, from /etc/os-release and what Node knows (no process spawned, systeminformation not loaded);
 * systeminformation elsewhere, or where os-release or the CPU model is missing.
 */
export async function readOsAndCpu(linux = isLinux): Promise<{ osInfo: OsFacts; cpu: CpuFacts }> {
  if (linux) {
    const release =
      (await readFile('/etc/os-release', 'utf8').catch(() => undefined)) ??
      (await readFile('/usr/lib/os-release', 'utf8').catch(() => ''));
    const distro = osFromRelease(release);
    const cpus = os.cpus();
    const model = cpus[0]?.model.trim();
    if (distro && model && model !== 'unknown') {
      return {
        osInfo: { ...distro, kernel: os.release(), arch: os.arch(), platform: 'linux' },
        cpu: { manufacturer: '', brand: model.replace(/\s+/g, ' '), cores: cpus.length },
      };
    }
  }
  const si = await systeminformation();
  const [osInfo, cpu] = await Promise.all([si.osInfo(), si.cpu()]);
  return { osInfo, cpu };
}

/** Read once per agent start: none of this changes without a reboot. */
export async function collectFacts(now = Date.now()): Promise<HostFacts> {
  const { osInfo, cpu } = await readOsAndCpu();
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
  const uuid = await systeminformation()
    .then((si) => si.uuid())
    .catch(() => undefined);
  return (uuid?.os || uuid?.hardware || os.hostname()).slice(0, 128);
}
