import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { memoryLogger } from '../log.ts';
import { nvidiaGpuCollector, parseNvidiaSmi } from './gpu-nvidia.ts';
import { SampleCollector } from './index.ts';
import { throttle } from './types.ts';

const CSV = [
  '0, NVIDIA H100 80GB HBM3, 550.54.15, 37, 1024, 81559, 41, 71.52, 700.00',
  '1, NVIDIA T4, 550.54.15, [N/A], 0, 15360, 35, [Not Supported], [N/A]',
  '',
].join('\n');

let dir: string;
let savedPath: string | undefined;

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'pw-nvsmi-'));
  savedPath = process.env.PATH;
});
afterEach(() => {
  process.env.PATH = savedPath;
});

/** Puts a fake `nvidia-smi` first on PATH that records its arguments and prints `output`. */
function fakeNvidiaSmi(output: string, exitCode = 0): string {
  const argvFile = path.join(dir, 'argv');
  const script = path.join(dir, 'nvidia-smi');
  writeFileSync(path.join(dir, 'out.csv'), output);
  writeFileSync(
    script,
    `#!/bin/sh\nfor a in "$@"; do printf '%s\\n' "$a"; done > "${argvFile}"\ncat "${dir}/out.csv"\nexit ${exitCode}\n`,
  );
  chmodSync(script, 0o755);
  process.env.PATH = `${dir}${path.delimiter}${savedPath}`;
  return argvFile;
}

describe('NVIDIA GPU collector', () => {
  it('runs nvidia-smi from PATH with the query arguments and maps its CSV', async () => {
    const argvFile = fakeNvidiaSmi(CSV);
    const result = await nvidiaGpuCollector().collect(0);
    expect(readFileSync(argvFile, 'utf8').trim().split('\n')).toEqual([
      '--query-gpu=index,name,driver_version,utilization.gpu,memory.used,memory.total,temperature.gpu,power.draw,power.limit',
      '--format=csv,noheader,nounits',
    ]);
    expect(result?.gpus).toEqual([
      {
        index: 0,
        name: 'NVIDIA H100 80GB HBM3',
        driver: '550.54.15',
        utilPct: 37,
        memUsed: 1024 * 1024 * 1024,
        memTotal: 81_559 * 1024 * 1024,
        tempC: 41,
        powerW: 71.52,
        powerLimitW: 700,
      },
      { index: 1, name: 'NVIDIA T4', driver: '550.54.15', memUsed: 0, memTotal: 15_360 * 1024 * 1024, tempC: 35 },
    ]);
  });

  it('reports a failing nvidia-smi with its message', async () => {
    fakeNvidiaSmi('NVIDIA-SMI has failed because it could not communicate with the NVIDIA driver.', 9);
    await expect(nvidiaGpuCollector().collect(0)).rejects.toThrow(/could not communicate/);
  });

  it('leaves the GPU section out when nvidia-smi is absent, and logs that once', async () => {
    process.env.PATH = dir;
    const log = memoryLogger();
    const sampler = new SampleCollector([nvidiaGpuCollector()], log);
    const first = await sampler.collect(1_800_000_000_000);
    const second = await sampler.collect(1_800_000_001_000);
    expect(first).toEqual({ ts: 1_800_000_000_000 });
    expect(second).not.toHaveProperty('gpus');
    expect(log.lines.filter((line) => line.includes('nvidia-smi not found'))).toHaveLength(1);
  });

  it('stays reported as off between throttled runs instead of flapping to "recovered"', async () => {
    process.env.PATH = dir;
    const log = memoryLogger();
    const sampler = new SampleCollector([throttle(nvidiaGpuCollector(), 2000)], log);
    for (let t = 0; t < 6000; t += 1000) await sampler.collect(1_800_000_000_000 + t);
    expect(log.lines.filter((line) => line.includes('nvidia-smi not found'))).toHaveLength(1);
    expect(log.lines.filter((line) => line.includes('recovered'))).toEqual([]);
  });

  it('ignores lines it cannot read', () => {
    expect(parseNvidiaSmi('garbage\n\n')).toEqual([]);
  });
});
