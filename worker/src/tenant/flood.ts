import { z } from 'zod';

/** Token bucket and violation debt of one socket, kept in its attachment (`socket-attachment.ts`). */
export const FloodState = z.object({
  tokens: z.number(),
  at: z.number(),
  debt: z.number(),
  lastWarnedAt: z.number(),
});
export type FloodState = z.infer<typeof FloodState>;

/**
 * Client message rate limits of one socket. A token bucket lets bursts of {@link BURST} messages
 * through and refills at {@link RATE_PER_SECOND}; each refused message adds one to a debt that
 * drains at {@link DEBT_DRAIN_PER_SECOND}. A client whose debt passes {@link MAX_DEBT} keeps
 * flooding after being told (`rate_limited`), and is closed with 1008.
 */
export const FLOOD = {
  RATE_PER_SECOND: 20,
  /** Room for a reconnecting dashboard to re-send every subscription at once (at most 64). */
  BURST: 100,
  DEBT_DRAIN_PER_SECOND: 5,
  MAX_DEBT: 40,
  /** At most one `rate_limited` error per socket per this many ms, so refusals do not amplify a flood. */
  WARN_EVERY_MS: 1000,
} as const;

export function freshFloodState(now: number): FloodState {
  return { tokens: FLOOD.BURST, at: now, debt: 0, lastWarnedAt: 0 };
}

export type FloodVerdict = 'accept' | 'refuse' | 'refuse_and_warn' | 'close';

/** Charges one message; returns the verdict and the socket's next flood state. */
export function chargeMessage(state: FloodState, now: number): { verdict: FloodVerdict; state: FloodState } {
  const elapsed = Math.max(0, now - state.at) / 1000;
  const tokens = Math.min(FLOOD.BURST, state.tokens + elapsed * FLOOD.RATE_PER_SECOND);
  const debt = Math.max(0, state.debt - elapsed * FLOOD.DEBT_DRAIN_PER_SECOND);
  if (tokens >= 1) {
    return { verdict: 'accept', state: { ...state, tokens: tokens - 1, at: now, debt } };
  }
  const owed = debt + 1;
  if (owed > FLOOD.MAX_DEBT) return { verdict: 'close', state: { ...state, tokens, at: now, debt: owed } };
  const warn = now - state.lastWarnedAt >= FLOOD.WARN_EVERY_MS;
  return {
    verdict: warn ? 'refuse_and_warn' : 'refuse',
    state: { tokens, at: now, debt: owed, lastWarnedAt: warn ? now : state.lastWarnedAt },
  };
}
