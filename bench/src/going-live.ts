import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { REPO_ROOT, runProcess, stopChild } from '@pulsewire/stack';
import { z } from 'zod';
import { LiveClient } from './live-client.ts';
import { type Distribution, distribution } from './stats.ts';
import type { BenchTenant } from './tenant.ts';

const AGENT_CLI = path.join(REPO_ROOT, 'agent/src/cli.ts');
/** The stack's idle cadence (worker/src/env.ts defaults): an unwatched agent collects every 10 s, pushes every 30 s. */
const IDLE_COLLECT_MS = 10_000;
const IDLE_PUSH_MS = 30_000;
/** Longest wait for one frame: past the idle push interval, so the baseline's worst case fits. */
const FRAME_TIMEOUT_MS = IDLE_PUSH_MS + 15_000;

export interface GoingLiveMode {
  subscribes: number;
  /** From sending `subscribe` to the first `metrics` frame carrying a sample collected after it. */
  goingLiveMs: Distribution;
  /** From that frame to the next one: the agent really is at the 1 s cadence. */
  nextFrameMs: Distribution;
  /** Subscribes that saw no such frame within FRAME_TIMEOUT_MS. */
  missed: number;
}

export interface GoingLiveRun {
  /** The real agent process with its control socket: the object says "live" the moment the subscribe lands. */
  control: GoingLiveMode;
  /** The same agent with the control socket off (`PULSEWIRE_CONTROL_SOCKET=off`): the previous behaviour. */
  pushAnswer: GoingLiveMode;
}

const Identity = z.object({ hostId: z.string() });

/** The agent process, with its log read line by line (stderr) so the run can wait for what it says. */
class AgentProcess {
  private readonly lines: string[] = [];
  private readonly waiters = new Set<() => void>();
  readonly child: ChildProcess;
  private constructor(child: ChildProcess) {
    this.child = child;
    const input = child.stderr;
    if (!input) throw new Error('agent without stderr');
    createInterface({ input }).on('line', (line) => {
      this.lines.push(line);
      for (const wake of this.waiters) wake();
    });
  }

  static start(env: NodeJS.ProcessEnv): AgentProcess {
    return new AgentProcess(spawn(process.execPath, [AGENT_CLI, 'run'], { env, stdio: ['ignore', 'ignore', 'pipe'] }));
  }

  /** Lines logged so far: the index to wait from. */
  get count(): number {
    return this.lines.length;
  }

  /** Waits (bounded) for a line from index `from` on that contains `text`. */
  async waitFor(text: string, from: number, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.lines.slice(from).some((line) => line.includes(text))) {
      const left = deadline - Date.now();
      if (left <= 0)
        throw new Error(`the agent did not log "${text}" within ${timeoutMs} ms:\n${this.lines.join('\n')}`);
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          this.waiters.delete(done);
          resolve();
        };
        const timer = setTimeout(done, left);
        this.waiters.add(done);
      });
    }
  }

  stop(): Promise<void> {
    return stopChild(this.child, 10_000);
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The real agent (`agent/src/cli.ts run`, enrolled with the CLI) runs at the idle cadence against the stack; a
 * dashboard socket subscribes to its host and times the first per-second frame; then unsubscribes, waits for
 * the agent to relax, and goes again. Each subscribe lands at a uniformly random moment of the cycle its wait
 * depends on: the idle collection (10 s) with the control socket, the idle push (30 s) without it.
 */
export async function runGoingLive(
  tenant: BenchTenant,
  options: { subscribes: number; baselineSubscribes: number; log: (line: string) => void },
): Promise<GoingLiveRun> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pulsewire-bench-going-live-'));
  try {
    const key = await tenant.createKey('ingest', 'bench going-live');
    const config = path.join(dir, 'agent.json');
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      PULSEWIRE_CONFIG: config,
      PULSEWIRE_STATE_DIR: path.join(dir, 'state'),
      PULSEWIRE_STATSD: 'off',
      PULSEWIRE_HTTP: 'off',
      PULSEWIRE_DOCKER_SOCKET: '/nonexistent.sock',
      PULSEWIRE_LOG_LEVEL: 'info',
    };
    const enroll = await runProcess(
      process.execPath,
      [AGENT_CLI, 'enroll', '--key', key, '--url', tenant.url, '--name', 'going-live'],
      env,
    );
    if (enroll.code !== 0) throw new Error(`enroll failed: ${enroll.output}`);
    const { hostId } = Identity.parse(JSON.parse(fs.readFileSync(config, 'utf8')));
    const readKey = await tenant.createKey('read', 'bench going-live');

    options.log(`  with the control socket: ${options.subscribes} subscribes`);
    const control = await measure({ env, hostId, readKey, url: tenant.url, controlSocket: true, ...options });
    options.log(`  without it (the push answer only): ${options.baselineSubscribes} subscribes`);
    const pushAnswer = await measure({
      env,
      hostId,
      readKey,
      url: tenant.url,
      controlSocket: false,
      subscribes: options.baselineSubscribes,
      log: options.log,
    });
    return { control, pushAnswer };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function measure(o: {
  env: NodeJS.ProcessEnv;
  hostId: string;
  readKey: string;
  url: string;
  controlSocket: boolean;
  subscribes: number;
  log: (line: string) => void;
}): Promise<GoingLiveMode> {
  const agent = AgentProcess.start({ ...o.env, PULSEWIRE_CONTROL_SOCKET: o.controlSocket ? 'on' : 'off' });
  let client: LiveClient | undefined;
  try {
    await agent.waitFor('started', 0, 30_000);
    if (o.controlSocket) await agent.waitFor('control socket open', 0, 30_000);
    // Frames of this host, in arrival order, with the newest sample time of each.
    let frames: { at: number; newest: number }[] = [];
    let arrived: () => void = () => {};
    client = await LiveClient.open(o.url, o.readKey, (message, at) => {
      if (message.type !== 'metrics' || message.hostId !== o.hostId) return;
      frames.push({ at, newest: Math.max(...message.samples.map((s) => s.ts)) });
      arrived();
    });
    const frameWhere = async (match: (f: { at: number; newest: number }) => boolean) => {
      const deadline = Date.now() + FRAME_TIMEOUT_MS;
      for (;;) {
        const found = frames.find(match);
        if (found) return found;
        const left = deadline - Date.now();
        if (left <= 0) return undefined;
        await Promise.race([new Promise<void>((resolve) => (arrived = resolve)), sleep(left)]);
      }
    };
    const goingLive: number[] = [];
    const nextFrame: number[] = [];
    let missed = 0;
    const cycle = o.controlSocket ? IDLE_COLLECT_MS : IDLE_PUSH_MS;
    for (let i = 0; i < o.subscribes; i++) {
      await sleep(Math.random() * cycle);
      frames = [];
      const from = agent.count;
      const t0 = performance.timeOrigin + performance.now();
      const wallT0 = Date.now();
      client.send({ type: 'subscribe', id: `s${i}`, hosts: [o.hostId], streams: ['metrics'] });
      const first = await frameWhere((f) => f.newest >= wallT0);
      if (!first) {
        missed++;
      } else {
        goingLive.push(first.at - t0);
        const second = await frameWhere((f) => f.at > first.at);
        if (second) nextFrame.push(second.at - first.at);
      }
      const relaxFrom = agent.count;
      client.send({ type: 'unsubscribe', id: `u${i}`, hosts: [o.hostId] });
      // The agent logs each cadence it takes; "live view open" then "cadence from server" (relaxed).
      await agent.waitFor('live view open', from, 5_000).catch(() => undefined);
      const relaxed = agent.waitFor('cadence from server', relaxFrom, 15_000);
      // A subscribe that never went live has nothing to relax from.
      await (first ? relaxed : relaxed.catch(() => undefined));
      if ((i + 1) % 5 === 0 || i + 1 === o.subscribes) {
        o.log(`    ${i + 1}/${o.subscribes}: last ${Math.round(goingLive.at(-1) ?? Number.NaN)} ms`);
      }
    }
    return {
      subscribes: o.subscribes,
      goingLiveMs: distribution(goingLive),
      nextFrameMs: distribution(nextFrame),
      missed,
    };
  } finally {
    client?.close();
    await agent.stop();
  }
}
