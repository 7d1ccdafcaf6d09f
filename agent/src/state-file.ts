import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { Cadence } from '@pulsewire/protocol';
import * as z from 'zod';
import { readFile, rename, writeFile } from './fs.ts';

/** What a running agent reports about itself for `pulsewire-agent status`. */
export const AgentStatus = z.object({
  pid: z.number().int(),
  state: z.string(),
  hostId: z.string(),
  startedAt: z.number(),
  updatedAt: z.number(),
  lastPushAt: z.number().optional(),
  lastError: z
    .object({ at: z.number(), code: z.string(), message: z.string(), status: z.number().optional() })
    .optional(),
  queueDepth: z.number().int(),
  spoolDepth: z.number().int(),
  droppedBatches: z.number().int(),
  cadence: Cadence,
  /** The control socket's state (transport/control.ts); absent when it is off. */
  control: z.enum(['connecting', 'open', 'backoff', 'closed']).optional(),
  /** Batches stored since the agent started, by the way they went (the control socket while it is open). */
  delivered: z.object({ socket: z.number().int(), http: z.number().int() }).optional(),
  collectorsFailing: z.record(z.string(), z.string()).default({}),
});
export type AgentStatus = z.infer<typeof AgentStatus>;

export function statusFile(stateDir: string): string {
  return path.join(stateDir, 'status.json');
}

/** Atomic (rename) but not fsync'd: it is informational and rewritten on every push. */
export async function writeStatus(stateDir: string, status: AgentStatus): Promise<void> {
  const file = statusFile(stateDir);
  const tmp = `${file}.${randomUUID().slice(0, 8)}.tmp`;
  await writeFile(tmp, JSON.stringify(status), { mode: 0o600 });
  await rename(tmp, file);
}

export async function readStatus(stateDir: string): Promise<AgentStatus | undefined> {
  try {
    const parsed = AgentStatus.safeParse(JSON.parse(await readFile(statusFile(stateDir), 'utf8')));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
