/**
 * Deterministic randomness for synthetic data: every draw is a hash of (seed, stream, index), so a value at
 * a given time is the same whichever order or range it is generated in, with no state carried between
 * samples. Streams are names ("cpu.core3"), hashed, so each series has noise of its own.
 */

const TWO_POW_32 = 2 ** 32;

/** A 32-bit integer mixer (the "lowbias32" finaliser): each input bit flips about half the output bits. */
function mix32(input: number): number {
  let h = input >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d);
  h ^= h >>> 15;
  h = Math.imul(h, 0x846ca68b);
  h ^= h >>> 16;
  return h >>> 0;
}

/** FNV-1a of a stream name. */
export function streamId(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** Uniform in [0, 1) for (seed, stream, index); index may be any integer a timestamp can be. */
export function uniform(seed: number, stream: number, index: number): number {
  const low = index >>> 0;
  const high = Math.floor(index / TWO_POW_32) >>> 0;
  let h = mix32(seed ^ 0x9e3779b9);
  h = mix32(h ^ stream);
  h = mix32(h ^ low);
  h = mix32(h ^ high);
  return h / TWO_POW_32;
}

/** Standard normal (Box–Muller on two independent uniforms). */
export function gaussian(seed: number, stream: number, index: number): number {
  const u = 1 - uniform(seed, stream, index * 2);
  const v = uniform(seed, stream, index * 2 + 1);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/**
 * Smooth noise in [0, 1): uniform values at knots `periodMs` apart, eased between, so it wanders over
 * about one period and is continuous in time.
 */
export function smooth(seed: number, stream: number, ts: number, periodMs: number): number {
  const position = ts / periodMs;
  const knot = Math.floor(position);
  const t = position - knot;
  const eased = t * t * (3 - 2 * t);
  const a = uniform(seed, stream, knot);
  const b = uniform(seed, stream, knot + 1);
  return a + (b - a) * eased;
}

/** Rounds as the agent rounds before it sends (12.345678 → 12.35). */
export function round(value: number, digits = 2): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

export function clamp(value: number, low: number, high: number): number {
  return Math.min(high, Math.max(low, value));
}

/** Whole pages: memory and file sizes move in 4 KiB steps. */
export function pages(bytes: number): number {
  return Math.max(0, Math.round(bytes / 4096) * 4096);
}
