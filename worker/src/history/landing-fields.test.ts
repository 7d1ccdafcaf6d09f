import { METRICS, type Sample, samplePoints, seriesKey } from '@pulsewire/protocol';
import { beforeAll, describe, expect, it } from 'vitest';
import { ownerWithIngestKey, TestAgent } from '../../test/agent.ts';
import { isolatedEnv, withDatabase } from '../../test/support.ts';
import type { Env } from '../env.ts';
import { readHistory } from './query.ts';

/**
 * The open hours' landing rows read back through the history query, which fetches only the fields each asked
 * series is computed from (landing-fields.ts): every collected metric, asked alone and all together, gives
 * exactly the values `samplePoints` gives from the whole samples pushed.
 */
const STEP = 10_000;

/** A sample with every section, including the optional fields some series are derived from. */
function fullSample(ts: number, i: number): Sample {
  return {
    ts,
    cpu: { total: 40 + i, user: 20 + i, system: 10, iowait: 1.25, steal: 0.5, perCore: [40, 41] },
    load: { 1: 1.5 + i, 5: 1.25, 15: 1 },
    memory: { total: 16e9, used: 6e9 + i, available: 9e9 - i, cached: 1e9, swapTotal: 2e9, swapUsed: 1e8 * i },
    disks: [
      { mount: '/', fs: '/dev/sda1', type: 'ext4', size: 5e11, used: 2e11 + i, usedPct: 40 },
      { mount: '/data', fs: '/dev/sdb1', type: 'xfs', size: 1e12, used: 9e11, usedPct: 90 + i / 10 },
    ],
    diskIo: { readBytesPerSec: 1000 * i, writeBytesPerSec: 2000, readOpsPerSec: 3, writeOpsPerSec: 4 + i },
    net: [
      {
        iface: 'eth0',
        rxBytesPerSec: 1234.5 + i,
        txBytesPerSec: 999,
        rxPacketsPerSec: 10,
        txPacketsPerSec: 11,
        rxErrors: i,
        txErrors: 0,
        rxTotal: 1e9,
        txTotal: 2e9,
      },
      {
        iface: 'docker0',
        rxBytesPerSec: 5,
        txBytesPerSec: 6 + i,
        rxPacketsPerSec: 1,
        txPacketsPerSec: 1,
        rxErrors: 0,
        txErrors: 2,
        rxTotal: 1e6,
        txTotal: 2e6,
      },
    ],
    gpus: [
      { index: 0, name: 'A', utilPct: 50 + i, memUsed: 4e9, memTotal: 8e9, tempC: 60, powerW: 150 },
      // No memory total: no gpu.mem_used_pct for this one.
      { index: 1, name: 'B', utilPct: 10, memUsed: 1e9, tempC: 40 },
    ],
    containers: [
      {
        id: 'c1',
        name: 'web',
        image: 'nginx',
        state: 'running',
        cpuPct: 12.5 + i,
        memUsed: 2e8,
        memLimit: 1e9,
      },
      { id: 'c2', name: 'batch', image: 'job', state: 'exited', memUsed: 1e7 },
    ],
    processes: { total: 300 + i, running: 2, sleeping: 290, blocked: i % 2, topCpu: [], topMem: [] },
    temps: [
      { label: 'cpu', c: 55 + i },
      { label: 'nvme', c: 40 },
    ],
    agent: { cpuPct: 0.5, rssBytes: 4e7 + i, queueDepth: 0, spoolDepth: i },
  };
}

describe('history: landing rows read field by field', () => {
  let env: Env;
  let agent: TestAgent;
  // The open hour: nothing compacted yet, so every read comes from the landing rows.
  const start = Math.floor(Date.now() / 3_600_000) * 3_600_000;
  const samples = Array.from({ length: 6 }, (_, i) => fullSample(start + i * STEP, i));
  // A sample without most sections: the series it lacks are gaps there.
  samples.push({ ts: start + 6 * STEP, cpu: samples[0]?.cpu } as Sample);

  beforeAll(async () => {
    env = await isolatedEnv();
    const setup = await ownerWithIngestKey(env);
    agent = await TestAgent.enroll(env, setup.ingestKey, crypto.randomUUID(), 'landing-1');
    const res = await agent.push(agent.batch(samples));
    expect(res.status, await res.clone().text()).toBe(200);
  });

  /** series key → the value at each sample (null: none), from the whole samples. */
  function expected(paths: readonly string[]): Map<string, (number | null)[]> {
    const out = new Map<string, (number | null)[]>();
    samples.forEach((sample, i) => {
      for (const p of samplePoints(sample)) {
        if (!paths.includes(p.metric)) continue;
        const key = seriesKey(p.metric, p.labels);
        const values = out.get(key) ?? samples.map(() => null);
        values[i] = p.value;
        out.set(key, values);
      }
    });
    return out;
  }

  async function read(paths: readonly string[]): Promise<Map<string, (number | null)[]>> {
    const answer = await withDatabase(env, (db) =>
      readHistory(
        db,
        {
          tenantId: agent.tenantId,
          hostId: agent.hostId,
          series: paths,
          from: start,
          to: start + samples.length * STEP,
          stepMs: STEP,
          tier: 'raw',
        },
        { compactedUntil: 0, rolledUpUntil: 0 },
      ),
    );
    return new Map([...answer.series].map(([key, buckets]) => [key, buckets.avg]));
  }

  it('gives every collected metric, asked alone, as the whole sample does', async () => {
    for (const { path } of METRICS) {
      const want = expected([path]);
      expect(want.size, `${path} has values in the test samples`).toBeGreaterThan(0);
      expect(await read([path]), path).toEqual(want);
    }
  });

  it('gives them all at once, and an exact key alone', async () => {
    const paths = METRICS.map((m) => m.path);
    expect(await read(paths)).toEqual(expected(paths));
    const eth0 = await read(['net.rx{iface="eth0"}']);
    expect([...eth0.keys()]).toEqual(['net.rx{iface="eth0"}']);
    expect(eth0.get('net.rx{iface="eth0"}')).toEqual(expected(['net.rx']).get('net.rx{iface="eth0"}'));
  });
});
