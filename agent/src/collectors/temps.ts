import path from 'node:path';
import { readdir } from '../fs.ts';
import { defaultProcPaths, isLinux, type ProcPaths, readSys } from './proc.ts';
import { type Collector, round, type Section, SourceAbsentError } from './types.ts';

interface Sensor {
  label: string;
  input: string[];
}

/**
 * Finds hwmon sensors (`/sys/class/hwmon/hwmon*\/temp*_input`, labelled by `temp*_label` or the chip name),
 * falling back to thermal zones. Found once: sensors do not come and go while the machine runs.
 */
export async function discoverSensors(paths: ProcPaths): Promise<Sensor[]> {
  const sensors: Sensor[] = [];
  const hwmonRoot = path.join(paths.sys, 'class', 'hwmon');
  for (const chip of await readdir(hwmonRoot).catch(() => [] as string[])) {
    const chipName = (await readSys(paths, 'class', 'hwmon', chip, 'name').catch(() => chip)).trim();
    const files = await readdir(path.join(hwmonRoot, chip)).catch(() => [] as string[]);
    for (const file of files.filter((f) => /^temp\d+_input$/.test(f)).sort()) {
      const labelFile = file.replace('_input', '_label');
      const label = files.includes(labelFile)
        ? (await readSys(paths, 'class', 'hwmon', chip, labelFile)).trim()
        : file.replace('_input', '');
      sensors.push({ label: `${chipName} ${label}`.slice(0, 128), input: ['class', 'hwmon', chip, file] });
    }
  }
  if (sensors.length > 0) return sensors;
  const zoneRoot = path.join(paths.sys, 'class', 'thermal');
  for (const zone of (await readdir(zoneRoot).catch(() => [] as string[])).filter((z) =>
    z.startsWith('thermal_zone'),
  )) {
    const type = (await readSys(paths, 'class', 'thermal', zone, 'type').catch(() => zone)).trim();
    sensors.push({ label: type.slice(0, 128), input: ['class', 'thermal', zone, 'temp'] });
  }
  return sensors;
}

/** Millidegrees to °C; readings outside the protocol's range (disconnected probes read -273 or 255) are dropped. */
export function tempFromMillidegrees(text: string): number | undefined {
  const c = Number(text.trim()) / 1000;
  return Number.isFinite(c) && c > -100 && c < 300 ? round(c, 1) : undefined;
}

/** Linux only; VMs and containers usually have no sensors, which is reported once as absent. */
export function tempsCollector(paths: ProcPaths = defaultProcPaths, linux = isLinux): Collector {
  let sensors: Sensor[] | undefined;
  return {
    name: 'temps',
    async collect() {
      if (!linux) throw new SourceAbsentError('temperatures are read from /sys on Linux only');
      sensors ??= await discoverSensors(paths);
      if (sensors.length === 0) throw new SourceAbsentError('no temperature sensors under /sys/class/hwmon or thermal');
      const temps: NonNullable<Section['temps']> = [];
      for (const sensor of sensors.slice(0, 64)) {
        const c = tempFromMillidegrees(await readSys(paths, ...sensor.input).catch(() => ''));
        if (c !== undefined) temps.push({ label: sensor.label, c });
      }
      return temps.length > 0 ? { temps } : undefined;
    },
  };
}
