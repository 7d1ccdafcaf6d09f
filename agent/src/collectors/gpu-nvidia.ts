import { nodeChildProcess } from '../builtins.ts';
import type { Collector, Section } from './types.ts';
import { round, SourceAbsentError } from './types.ts';

export const NVIDIA_QUERY_FIELDS = [
  'index',
  'name',
  'driver_version',
  'utilization.gpu',
  'memory.used',
  'memory.total',
  'temperature.gpu',
  'power.draw',
  'power.limit',
] as const;

export const NVIDIA_SMI_ARGS = [`--query-gpu=${NVIDIA_QUERY_FIELDS.join(',')}`, '--format=csv,noheader,nounits'];

const MIB = 1024 * 1024;

/** nvidia-smi prints `[N/A]` or `[Not Supported]` for what a board does not report. */
function num(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text.trim());
  return text.trim() !== '' && Number.isFinite(value) ? value : undefined;
}

function defined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

/** Maps `--format=csv,noheader,nounits` output (memory in MiB, power in W, temperature in °C). */
export function parseNvidiaSmi(csv: string): NonNullable<Section['gpus']> {
  const gpus: NonNullable<Section['gpus']> = [];
  for (const line of csv.split('\n')) {
    if (!line.trim()) continue;
    const [index, name, driver, util, memUsed, memTotal, temp, power, powerLimit] = line
      .split(',')
      .map((f) => f.trim());
    const i = num(index);
    if (i === undefined || !name) continue;
    const used = num(memUsed);
    const total = num(memTotal);
    const watts = num(power);
    const limit = num(powerLimit);
    const utilPct = num(util);
    gpus.push(
      defined({
        index: i,
        name: name.slice(0, 200),
        driver: driver && !driver.startsWith('[') ? driver.slice(0, 64) : undefined,
        utilPct: utilPct === undefined ? undefined : Math.min(100, Math.max(0, utilPct)),
        memUsed: used === undefined ? undefined : used * MIB,
        memTotal: total === undefined ? undefined : total * MIB,
        tempC: num(temp),
        powerW: watts === undefined ? undefined : round(watts),
        powerLimitW: limit === undefined ? undefined : round(limit),
      }),
    );
  }
  return gpus.slice(0, 16);
}

export function runNvidiaSmi(binary = 'nvidia-smi', timeoutMs = 5000): Promise<string> {
  return new Promise((resolve, reject) => {
    nodeChildProcess().execFile(
      binary,
      NVIDIA_SMI_ARGS,
      { timeout: timeoutMs, windowsHide: true },
      (error, stdout, stderr) => {
        if (error) {
          const code = (error as NodeJS.ErrnoException).code;
          if (code === 'ENOENT') reject(new SourceAbsentError(`${binary} not found: no NVIDIA GPU metrics`));
          else reject(new Error(`${binary} failed: ${(stderr || stdout || error.message).trim().slice(0, 300)}`));
          return;
        }
        resolve(stdout);
      },
    );
  });
}

/**
 * One `nvidia-smi --query-gpu` per cycle when the binary is on PATH. Once found absent it is not looked for
 * again until the agent restarts (installing a driver means a reboot anyway).
 */
export function nvidiaGpuCollector(binary = 'nvidia-smi'): Collector {
  let absent: SourceAbsentError | undefined;
  return {
    name: 'gpu',
    async collect() {
      if (absent) throw absent;
      try {
        const gpus = parseNvidiaSmi(await runNvidiaSmi(binary));
        return gpus.length > 0 ? { gpus } : undefined;
      } catch (error) {
        if (error instanceof SourceAbsentError) absent = error;
        throw error;
      }
    },
  };
}
