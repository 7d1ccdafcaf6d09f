import type http from 'node:http';
import * as z from 'zod';
import { nodeHttp } from '../builtins.ts';
import { httpExchange } from '../transport/http.ts';
import { type Collector, round, type Section, SourceAbsentError } from './types.ts';

export const DEFAULT_DOCKER_SOCKET = '/var/run/docker.sock';

// Only the fields we read; Docker sends many more, which zod strips.
const ContainerSummary = z.object({
  Id: z.string(),
  Names: z.array(z.string()).default([]),
  Image: z.string().default(''),
  State: z.string().default('unknown'),
  Labels: z.record(z.string(), z.string()).nullish(),
});
const ContainerList = z.array(ContainerSummary);

const CpuStats = z.object({
  cpu_usage: z.object({ total_usage: z.number().default(0) }).default({ total_usage: 0 }),
  system_cpu_usage: z.number().optional(),
  online_cpus: z.number().optional(),
});
export const ContainerStats = z.object({
  cpu_stats: CpuStats.optional(),
  precpu_stats: CpuStats.optional(),
  memory_stats: z
    .object({
      usage: z.number().optional(),
      limit: z.number().optional(),
      stats: z.record(z.string(), z.number()).optional(),
    })
    .optional(),
  networks: z.record(z.string(), z.object({ rx_bytes: z.number(), tx_bytes: z.number() })).optional(),
  pids_stats: z.object({ current: z.number().optional() }).optional(),
});
export type ContainerStats = z.infer<typeof ContainerStats>;
export type ContainerSummary = z.infer<typeof ContainerSummary>;

export interface CpuReading {
  container: number;
  system: number;
}

/**
 * Percent of one core, as `docker stats` computes it. `one-shot` stats carry no previous reading, so the
 * previous cycle's reading is used when Docker does not send one.
 */
export function containerCpuPct(stats: ContainerStats, previous: CpuReading | undefined): number | undefined {
  const cpu = stats.cpu_stats;
  if (!cpu || cpu.system_cpu_usage === undefined) return undefined;
  const pre = stats.precpu_stats?.system_cpu_usage
    ? { container: stats.precpu_stats.cpu_usage.total_usage, system: stats.precpu_stats.system_cpu_usage }
    : previous;
  if (!pre) return undefined;
  const containerDelta = cpu.cpu_usage.total_usage - pre.container;
  const systemDelta = cpu.system_cpu_usage - pre.system;
  if (systemDelta <= 0 || containerDelta < 0) return 0;
  return round((containerDelta / systemDelta) * (cpu.online_cpus ?? 1) * 100);
}

export function containerFromStats(
  summary: ContainerSummary,
  stats: ContainerStats | undefined,
  previous: CpuReading | undefined,
): NonNullable<Section['containers']>[number] {
  const base = {
    id: summary.Id.slice(0, 12),
    name: (summary.Names[0] ?? summary.Id.slice(0, 12)).replace(/^\//, '').slice(0, 200),
    image: summary.Image.slice(0, 512),
    state: summary.State.slice(0, 32),
    ...(summary.Labels?.['com.docker.compose.service']
      ? { composeService: summary.Labels['com.docker.compose.service'].slice(0, 200) }
      : {}),
  };
  if (!stats) return base;
  const mem = stats.memory_stats;
  // The page cache a container can give back is not "used", as in `docker stats`.
  const inactive = mem?.stats?.inactive_file ?? mem?.stats?.total_inactive_file ?? 0;
  const networks = Object.values(stats.networks ?? {});
  const cpuPct = containerCpuPct(stats, previous);
  return {
    ...base,
    ...(cpuPct !== undefined ? { cpuPct } : {}),
    ...(mem?.usage !== undefined ? { memUsed: Math.max(0, mem.usage - inactive) } : {}),
    ...(mem?.limit !== undefined ? { memLimit: mem.limit } : {}),
    ...(networks.length > 0
      ? {
          netRx: networks.reduce((sum, n) => sum + n.rx_bytes, 0),
          netTx: networks.reduce((sum, n) => sum + n.tx_bytes, 0),
        }
      : {}),
    ...(stats.pids_stats?.current !== undefined ? { pids: stats.pids_stats.current } : {}),
  };
}

const ABSENT_CODES = new Set(['ENOENT', 'ECONNREFUSED', 'EACCES', 'ENOTSOCK']);

function socketError(error: unknown, socketPath: string): Error {
  const code = (error as NodeJS.ErrnoException).code ?? (error as { cause?: NodeJS.ErrnoException }).cause?.code;
  if (code === 'EACCES') {
    return new SourceAbsentError(`no permission on ${socketPath}: add the agent's user to the docker group`);
  }
  if (code && ABSENT_CODES.has(code))
    return new SourceAbsentError(`Docker socket ${socketPath} not reachable (${code})`);
  return error instanceof Error ? error : new Error(String(error));
}

/**
 * Docker Engine API over its unix socket: the container list, then one-shot stats for each running container
 * (a few at a time). Containers that are not running are listed with their state only.
 */
export function dockerCollector(socketPath = DEFAULT_DOCKER_SOCKET, concurrency = 8): Collector {
  let client: http.Agent | undefined;
  const previous = new Map<string, CpuReading>();

  async function get(path: string): Promise<unknown> {
    client ??= new (nodeHttp().Agent)({ keepAlive: true, maxSockets: concurrency, timeout: 30_000 });
    const response = await httpExchange(new URL(path, 'http://docker'), {
      method: 'GET',
      agent: client,
      socketPath,
      timeoutMs: 5000,
    });
    if (response.status !== 200) throw new Error(`Docker API ${path} answered ${response.status}`);
    return JSON.parse(response.text);
  }

  return {
    name: 'docker',
    async collect() {
      let list: ContainerSummary[];
      try {
        list = ContainerList.parse(await get('/containers/json?all=true')).slice(0, 500);
      } catch (error) {
        const reason = socketError(error, socketPath);
        if (reason instanceof SourceAbsentError) {
          client?.destroy();
          client = undefined;
        }
        throw reason;
      }
      const stats = new Map<string, ContainerStats>();
      const running = list.filter((c) => c.State === 'running');
      for (let i = 0; i < running.length; i += concurrency) {
        await Promise.all(
          running.slice(i, i + concurrency).map(async (c) => {
            const parsed = ContainerStats.safeParse(
              await get(`/containers/${c.Id}/stats?stream=false&one-shot=true`).catch(() => undefined),
            );
            if (parsed.success) stats.set(c.Id, parsed.data);
          }),
        );
      }
      const containers = list.map((c) => containerFromStats(c, stats.get(c.Id), previous.get(c.Id)));
      previous.clear();
      for (const [id, s] of stats) {
        if (s.cpu_stats?.system_cpu_usage !== undefined) {
          previous.set(id, { container: s.cpu_stats.cpu_usage.total_usage, system: s.cpu_stats.system_cpu_usage });
        }
      }
      return { containers };
    },
    async close() {
      client?.destroy();
    },
  };
}
