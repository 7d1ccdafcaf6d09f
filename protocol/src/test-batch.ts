/**
 * A batch with every section and every metric kind filled in, for the protocol's tests (ingest.test.ts, and the
 * guard's, which varies it thousands of ways).
 */
export const TS = 1_800_000_000_000;

export const fullSample = {
  ts: TS,
  cpu: { total: 12.5, user: 8, system: 3, iowait: 1, steal: 0.5, perCore: [10, 15], freqMhz: 2900 },
  load: { 1: 0.5, 5: 0.4, 15: 0.3 },
  memory: { total: 8e9, used: 2e9, available: 6e9, cached: 1e9, swapTotal: 0, swapUsed: 0 },
  disks: [{ mount: '/', fs: '/dev/vda', type: 'ext4', size: 1e11, used: 2e10, usedPct: 20 }],
  diskIo: { readBytesPerSec: 100, writeBytesPerSec: 200, readOpsPerSec: 1, writeOpsPerSec: 2 },
  net: [
    {
      iface: 'eth0',
      rxBytesPerSec: 10,
      txBytesPerSec: 20,
      rxPacketsPerSec: 1,
      txPacketsPerSec: 2,
      rxErrors: 0,
      txErrors: 0,
      rxTotal: 1e6,
      txTotal: 2e6,
    },
  ],
  gpus: [{ index: 0, name: 'NVIDIA H100', driver: '550.1', utilPct: 50, memUsed: 1e9, memTotal: 8e10, tempC: 40 }],
  containers: [{ id: 'abc123def456', name: 'web', image: 'nginx', state: 'running', cpuPct: 150, pids: 3 }],
  processes: {
    total: 100,
    running: 1,
    sleeping: 99,
    blocked: 0,
    topCpu: [{ pid: 1, name: 'init', cpuPct: 0.1, memBytes: 1000 }],
    topMem: [{ pid: 2, name: 'db', cpuPct: 3, memBytes: 5e8 }],
  },
  temps: [{ label: 'cpu', c: 45 }],
  agent: { cpuPct: 0.2, rssBytes: 5e7, queueDepth: 0, spoolDepth: 0, sendLatencyMs: 12 },
};

export const fullBatch = {
  batch_id: '0b7f4f0e-54a7-4a53-9f0c-6a0d9d1b2c3d',
  seq: 7,
  host_id: 'h_1',
  sent_at: TS,
  samples: [fullSample, { ...fullSample, ts: TS + 10_000 }],
  metrics: [
    { name: 'jobs.done', kind: 'counter', value: 3, ts: TS, labels: { queue: 'default', 'region.eu': 'west' } },
    { name: 'queue.depth', kind: 'gauge', value: -2.5, ts: TS },
    { name: 'users', kind: 'set', value: 4, ts: TS },
    { name: 'latency', kind: 'histogram', ts: TS, hist: { count: 2, sum: 3, min: 1, max: 2, p50: 1, p90: 2, p99: 2 } },
  ],
  events: [
    { ts: TS, kind: 'job.progress', id: 'job-1', name: 'backup', progress: 0.5, message: 'half', labels: { a: 'b' } },
  ],
  facts: {
    os: 'Debian GNU/Linux 12',
    kernel: '6.1.0',
    arch: 'x64',
    cpuModel: 'AMD EPYC',
    cores: 2,
    memTotal: 8e9,
    bootTime: TS,
    hostname: 'vm',
  },
};
