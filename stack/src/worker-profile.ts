import WebSocket from 'ws';

/** A V8 CPU profile as the inspector's `Profiler.stop` returns it (and Chrome DevTools opens as `.cpuprofile`). */
export interface CpuProfile {
  nodes: {
    id: number;
    callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
    children?: number[];
  }[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/**
 * Starts sampling the Worker's isolate under wrangler dev (the Worker and its Durable Objects share it) through
 * wrangler's inspector proxy; `stop` ends it and returns the profile: where workerd's JavaScript time goes. Only
 * JavaScript and the V8 work it triggers show; the runtime's own C++ (I/O, the isolate lock) appears as
 * `(program)` or not at all.
 */
export async function startWorkerProfile(
  inspectorPort: number,
  samplingIntervalUs = 250,
): Promise<{ stop(): Promise<CpuProfile> }> {
  const socket = new WebSocket(`ws://127.0.0.1:${inspectorPort}/ws`);
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
  });
  let nextId = 1;
  const waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  socket.on('message', (data) => {
    // Console events and the like arrive too: only answers carry an id.
    const message = JSON.parse(String(data)) as { id?: number; result?: unknown; error?: { message: string } };
    const pending = message.id === undefined ? undefined : waiting.get(message.id);
    if (!pending) return;
    waiting.delete(message.id as number);
    if (message.error) pending.reject(new Error(`inspector: ${message.error.message}`));
    else pending.resolve(message.result);
  });
  socket.on('close', () => {
    for (const pending of waiting.values()) pending.reject(new Error('the inspector closed the connection'));
  });
  const call = <R>(method: string, params: Record<string, unknown> = {}) =>
    new Promise<R>((resolve, reject) => {
      const id = nextId++;
      waiting.set(id, { resolve: resolve as (v: unknown) => void, reject });
      socket.send(JSON.stringify({ id, method, params }));
    });
  try {
    await call('Profiler.enable');
    await call('Profiler.setSamplingInterval', { interval: samplingIntervalUs });
    await call('Profiler.start');
  } catch (error) {
    socket.close();
    throw error;
  }
  return {
    async stop() {
      try {
        return (await call<{ profile: CpuProfile }>('Profiler.stop')).profile;
      } finally {
        socket.close();
      }
    },
  };
}
