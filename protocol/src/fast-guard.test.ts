import { describe, expect, it } from 'vitest';
import * as z from 'zod';
import { ControlAgentMessage } from './control.ts';
import { compileGuard, guardedParser, UnsupportedSchemaError } from './fast-guard.ts';
import { EnrollRequest, IngestBatch } from './ingest.ts';
import { fullBatch as batch, TS } from './test-batch.ts';

const message = {
  type: 'batch',
  headers: {
    'x-pulsewire-host': 'h_1',
    'x-pulsewire-timestamp': String(TS),
    'x-pulsewire-batch': batch.batch_id,
    'x-pulsewire-signature': 'c2ln',
    'x-pulsewire-seq': '7',
  },
  body: JSON.stringify(batch),
};

/** A small deterministic generator (mulberry32), so that a failing case can be replayed from its seed. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Json = unknown;
type Path = (string | number)[];

function paths(value: Json, path: Path = []): Path[] {
  const here: Path[] = [path];
  if (Array.isArray(value)) return here.concat(...value.map((item, i) => paths(item, [...path, i])));
  if (value && typeof value === 'object') {
    return here.concat(...Object.entries(value).map(([key, item]) => paths(item, [...path, key])));
  }
  return here;
}

const hostileNumbers = [-1, -0, 0, 0.5, 1e-46, 101, 2 ** 53, 3.5e38, 1e308, Number.NaN, Number.POSITIVE_INFINITY];
const hostileStrings = ['', 'a\u0000b', '\ud800', 'x'.repeat(65), 'x'.repeat(513), 'bad key', '9lives', 'ok'];
const otherValues = [null, true, false, {}, [], '1', 1];

/** One random change somewhere in `root`: a hostile leaf, a key added, renamed or removed, an array grown. */
function mutate(root: Json, pick: () => number): Json {
  const copy = structuredClone(root) as Record<string | number, unknown>;
  const all = paths(copy);
  const path = all[Math.floor(pick() * all.length)] as Path;
  const choose = <T>(items: readonly T[]): T => items[Math.floor(pick() * items.length)] as T;
  const parent = path
    .slice(0, -1)
    .reduce<Record<string | number, unknown>>((node, key) => node[key] as Record<string | number, unknown>, copy);
  const last = path.at(-1);
  const target = last === undefined ? copy : parent[last];
  const replace = (value: unknown) => {
    if (last === undefined) return;
    parent[last] = value;
  };
  const roll = pick();
  if (typeof target === 'number') replace(roll < 0.8 ? choose(hostileNumbers) : choose(otherValues));
  else if (typeof target === 'string') replace(roll < 0.8 ? choose(hostileStrings) : choose(otherValues));
  else if (Array.isArray(target)) {
    if (roll < 0.3) target.length = 0;
    else if (roll < 0.6) while (target.length < 1025) target.push(target[0] ?? 1);
    else if (roll < 0.8) target.push(choose(otherValues));
    else replace(choose(otherValues));
  } else if (target && typeof target === 'object') {
    const object = target as Record<string, unknown>;
    const keys = Object.keys(object);
    if (roll < 0.25) object[choose(['extra', 'Extra', 'constructor'])] = 1;
    else if (roll < 0.35) {
      // An own `__proto__` key, as JSON.parse makes one (assigning it would change the prototype instead).
      Object.defineProperty(object, '__proto__', { value: { polluted: true }, enumerable: true, writable: true });
    } else if (roll < 0.6 && keys.length > 0) delete object[choose(keys)];
    else if (roll < 0.85 && keys.length > 0) {
      const key = choose(keys);
      object[choose(hostileStrings)] = object[key];
      delete object[key];
    } else replace(choose(otherValues));
  }
  return copy;
}

/** Deep equality of JSON-like values, prototypes and own keys included (`__proto__` as JSON.parse makes it). */
function sameValue(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Object.getPrototypeOf(a) !== Object.getPrototypeOf(b) || Array.isArray(a) !== Array.isArray(b)) return false;
  const keysA = Object.keys(a);
  const keysB = Object.keys(b);
  if (keysA.length !== keysB.length) return false;
  const bRecord = b as Record<string, unknown>;
  return keysA.every((key) => Object.hasOwn(b, key) && sameValue((a as Record<string, unknown>)[key], bRecord[key]));
}

/** The guard's promise, checked both ways: yes exactly when zod succeeds and hands back the input unchanged. */
function agreesWithZod(schema: z.ZodType, value: Json): { ok: boolean; guard: boolean; zod: boolean } {
  const guard = compileGuard(schema)(value);
  const parsed = schema.safeParse(value);
  const zod = parsed.success && sameValue(parsed.data, value);
  return { ok: guard === zod, guard, zod };
}

describe('compileGuard', () => {
  it('says yes to well-formed batches and control messages', () => {
    expect(compileGuard(IngestBatch)(batch)).toBe(true);
    expect(compileGuard(IngestBatch)({ ...batch, metrics: undefined, events: [], facts: undefined })).toBe(true);
    expect(compileGuard(ControlAgentMessage)(message)).toBe(true);
  });

  it('agrees with zod on thousands of hostile variations of a batch', () => {
    for (const [schema, root] of [
      [IngestBatch, batch],
      [ControlAgentMessage, message],
    ] as const) {
      let yes = 0;
      for (let seed = 1; seed <= 3000; seed++) {
        const pick = random(seed);
        let value: Json = root;
        // One to three changes at once, so that a refusal further in is not hidden behind the first.
        const changes = 1 + Math.floor(pick() * 3);
        for (let i = 0; i < changes; i++) value = mutate(value, pick);
        const verdict = agreesWithZod(schema, value);
        if (!verdict.ok) {
          throw new Error(`seed ${seed}: guard ${verdict.guard}, zod ${verdict.zod}: ${JSON.stringify(value)}`);
        }
        if (verdict.guard) yes++;
      }
      // Some changes keep the value valid (a number replaced by another in range, a key removed that was optional).
      expect(yes).toBeGreaterThan(30);
      expect(yes).toBeLessThan(2900);
    }
  });

  it('refuses what zod would strip or change, and what it refuses', () => {
    const guard = compileGuard(IngestBatch);
    expect(guard({ ...batch, unknown: 1 })).toBe(false);
    expect(guard({ ...batch, samples: [], metrics: [], events: [], facts: undefined })).toBe(false); // the refine
    expect(guard({ ...batch, host_id: 'h\u0000' })).toBe(false);
    expect(guard({ ...batch, batch_id: 'not-a-uuid' })).toBe(false);
    expect(guard({ ...batch, seq: 1.5 })).toBe(false);
    expect(guard({ ...batch, events: [{ ...batch.events[0], progress: 1e-46 }] })).toBe(false);
    expect(guard({ ...batch, metrics: [{ ...batch.metrics[0], kind: 'summary' }] })).toBe(false);
    expect(guard({ ...batch, metrics: [{ ...batch.metrics[0], labels: { 'bad key': 'x' } }] })).toBe(false);
    const tooManyLabels = Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`k${i}`, 'v']));
    expect(guard({ ...batch, metrics: [{ ...batch.metrics[0], labels: tooManyLabels }] })).toBe(false);
    expect(guard(JSON.parse(JSON.stringify(batch).replace('"seq"', '"__proto__":{},"seq"')))).toBe(false);
    const symbolLabels = { ...batch, metrics: [{ ...batch.metrics[0], labels: { [Symbol('k')]: 'v' } }] };
    expect(agreesWithZod(IngestBatch, symbolLabels)).toEqual({ ok: true, guard: false, zod: false });
  });

  it('answers like safeParse, with zod building the output and the error when the guard says no', () => {
    const parse = guardedParser(IngestBatch);
    const good = parse(batch);
    expect(good.success && good.data).toBe(batch);
    const stripped = parse({ ...batch, unknown: 1 });
    expect(stripped.success && stripped.data).toEqual(batch);
    const bad = parse({ ...batch, seq: -1 });
    expect(bad.success).toBe(false);
    expect(bad.error?.issues[0]?.path).toEqual(['seq']);
  });

  it('refuses to model what it does not know, when the guard is built', () => {
    expect(() => compileGuard(EnrollRequest)).toThrow(UnsupportedSchemaError); // labels default to {}
    expect(() => compileGuard(z.string().transform((s) => s.length))).toThrow(UnsupportedSchemaError);
    expect(() => compileGuard(z.union([z.string(), z.number()]))).toThrow(UnsupportedSchemaError);
    expect(() => compileGuard(z.email())).toThrow(UnsupportedSchemaError);
    expect(() => compileGuard(z.coerce.number())).toThrow(UnsupportedSchemaError);
    expect(() => compileGuard(z.number().multipleOf(2))).toThrow(UnsupportedSchemaError);
  });
});
