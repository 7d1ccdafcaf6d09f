import type * as z from 'zod';

/**
 * A quick yes for the inputs a schema takes unchanged, read from the schema itself, so that there is still one
 * schema per message (this file declares none).
 *
 * Why: workerd forbids code generation, so zod runs its interpreted parser there, and on the ingest path that
 * was ~30 % of the tenant object's CPU per batch (bench/README.md, "Where workerd's CPU goes"). A guard built of
 * plain closures answers the common case, a well-formed batch, several times faster.
 *
 * The contract is one-sided: `guard(value)` is true only if `schema.safeParse(value)` succeeds and returns a value
 * deep-equal to `value` (no key stripped, nothing transformed). Anything else, an invalid input, an unknown key
 * zod would strip, is false, and the caller parses with zod, which then builds the output or the error message.
 * So the guard may say no to valid input (slower, still right), never yes to invalid input.
 *
 * Only what the ingest schemas use is modelled: objects, arrays, records with string keys, strings (lengths,
 * regexes, the uuid format, refinements), numbers (bounds, safe integers, refinements), booleans, literals,
 * optional, and discriminated unions. Anything else (transforms, defaults, pipes, coercion, conditional checks)
 * throws `UnsupportedSchemaError` when the guard is built, so a schema change cannot silently pass through.
 */
export type Guard = (value: unknown) => boolean;

export class UnsupportedSchemaError extends Error {
  constructor(what: string) {
    super(`compileGuard: ${what} is not modelled; parse this schema with zod`);
    this.name = 'UnsupportedSchemaError';
  }
}

/** What the guard reads of a schema's definition (zod's `_zod.def`, the same for zod and zod/mini). */
interface Def {
  type: string;
  checks?: { _zod: { def: CheckDef } }[];
  coerce?: boolean;
  format?: string;
  pattern?: RegExp;
  shape?: Record<string, Schema>;
  catchall?: Schema;
  element?: Schema;
  keyType?: Schema;
  valueType?: Schema;
  innerType?: Schema;
  options?: Schema[];
  discriminator?: string;
  values?: unknown[];
  mode?: string;
}

interface CheckDef {
  check: string;
  when?: unknown;
  value?: unknown;
  inclusive?: boolean;
  format?: string;
  minimum?: number;
  maximum?: number;
  length?: number;
  pattern?: RegExp;
  fn?: (value: never) => unknown;
}

type Schema = { _zod: { def: Def } };

const isPlainObject = (value: unknown): value is Record<string, unknown> => {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
};

/** String formats whose whole test is their pattern (others, like `url`, parse as well). */
const PATTERN_FORMATS = new Set(['regex', 'uuid', 'guid']);

const LENGTH_CHECKS = new Set(['min_length', 'max_length', 'length_equals']);

function checkGuard(check: CheckDef, kind: 'number' | 'string' | 'length' | 'any'): Guard {
  // zod gives length checks a `when` of their own (run on values that have a length), which a string or an array
  // passes; any other `when` may skip a check the guard would run.
  if (check.when !== undefined && !LENGTH_CHECKS.has(check.check)) {
    throw new UnsupportedSchemaError('a conditional check (`when`)');
  }
  switch (check.check) {
    case 'custom': {
      const fn = check.fn as (value: unknown) => unknown;
      if (typeof fn !== 'function') throw new UnsupportedSchemaError('a custom check without a function');
      return (value) => {
        const verdict = fn(value);
        // An async refinement is zod's to await: say no and let it.
        return verdict instanceof Promise ? false : Boolean(verdict);
      };
    }
    case 'greater_than':
    case 'less_than': {
      const bound = check.value;
      if (kind !== 'number' || typeof bound !== 'number') throw new UnsupportedSchemaError(`${check.check} here`);
      if (check.check === 'greater_than') {
        return check.inclusive ? (v) => (v as number) >= bound : (v) => (v as number) > bound;
      }
      return check.inclusive ? (v) => (v as number) <= bound : (v) => (v as number) < bound;
    }
    case 'number_format':
      if (kind !== 'number' || check.format !== 'safeint') {
        throw new UnsupportedSchemaError(`number format ${String(check.format)}`);
      }
      return (v) => Number.isSafeInteger(v);
    case 'min_length':
    case 'max_length':
    case 'length_equals': {
      if (kind !== 'string' && kind !== 'length') throw new UnsupportedSchemaError(`${check.check} here`);
      const n =
        check.check === 'min_length' ? check.minimum : check.check === 'max_length' ? check.maximum : check.length;
      if (typeof n !== 'number') throw new UnsupportedSchemaError(`${check.check} without a bound`);
      if (check.check === 'min_length') return (v) => (v as { length: number }).length >= n;
      if (check.check === 'max_length') return (v) => (v as { length: number }).length <= n;
      return (v) => (v as { length: number }).length === n;
    }
    case 'string_format': {
      const { pattern, format } = check;
      if (kind !== 'string' || !(pattern instanceof RegExp) || !PATTERN_FORMATS.has(String(format))) {
        throw new UnsupportedSchemaError(`string format ${String(format)}`);
      }
      return (v) => {
        pattern.lastIndex = 0;
        return pattern.test(v as string);
      };
    }
    default:
      throw new UnsupportedSchemaError(`the check ${check.check}`);
  }
}

/** The type test first, then every check in order (zod runs checks only on a value of the right type). */
function withChecks(def: Def, kind: 'number' | 'string' | 'length' | 'any', typeTest: Guard): Guard {
  const checks = (def.checks ?? []).map((check) => checkGuard(check._zod.def, kind));
  if (checks.length === 0) return typeTest;
  return (value) => {
    if (!typeTest(value)) return false;
    for (const check of checks) if (!check(value)) return false;
    return true;
  };
}

function objectGuard(def: Def): Guard {
  const shape = def.shape ?? {};
  const entries = Object.entries(shape).map(([key, schema]) => [key, compileGuard(schema)] as const);
  const known = new Set(Object.keys(shape));
  // Strip mode (no catchall) drops unknown keys and strict mode refuses them: either way the output is not the
  // input, so the guard says no. A loose object keeps them as they are.
  const catchall = def.catchall?._zod.def.type;
  if (catchall !== undefined && catchall !== 'unknown' && catchall !== 'never') {
    throw new UnsupportedSchemaError(`an object whose other keys are ${catchall}`);
  }
  const extraKeysKept = catchall === 'unknown';
  return withChecks(def, 'any', (value) => {
    if (!isPlainObject(value)) return false;
    for (const [key, guard] of entries) if (!guard(value[key])) return false;
    if (!extraKeysKept) for (const key in value) if (!known.has(key)) return false;
    return true;
  });
}

function recordGuard(def: Def): Guard {
  const keyDef = def.keyType?._zod.def;
  const enumeratedKeys = (def.keyType as { _zod: { values?: unknown } } | undefined)?._zod.values;
  if (keyDef?.type !== 'string' || enumeratedKeys) {
    throw new UnsupportedSchemaError('a record whose keys are not free strings');
  }
  const keyGuard = compileGuard(def.keyType as Schema);
  const valueGuard = compileGuard(def.valueType as Schema);
  return withChecks(def, 'any', (value) => {
    // zod checks symbol keys too (and refuses them as strings); JSON has none, so they only need a no.
    if (!isPlainObject(value) || Object.getOwnPropertySymbols(value).length > 0) return false;
    for (const key of Object.keys(value)) {
      // zod skips `__proto__` (the output lacks it): not the input, so no.
      if (key === '__proto__' || !keyGuard(key) || !valueGuard(value[key])) return false;
    }
    return true;
  });
}

function discriminatedUnionGuard(def: Def): Guard {
  const discriminator = def.discriminator as string;
  const byValue = new Map<unknown, Guard>();
  for (const option of def.options ?? []) {
    const optionDef = option._zod.def;
    const tag = optionDef.type === 'object' ? optionDef.shape?.[discriminator]?._zod.def : undefined;
    if (tag?.type !== 'literal') throw new UnsupportedSchemaError('a union option without a literal tag');
    const guard = compileGuard(option);
    for (const value of tag.values ?? []) {
      if (byValue.has(value)) throw new UnsupportedSchemaError('two union options with one tag');
      byValue.set(value, guard);
    }
  }
  return withChecks(def, 'any', (value) => {
    if (!isPlainObject(value)) return false;
    const guard = byValue.get(value[discriminator]);
    return guard?.(value) === true;
  });
}

const built = new WeakMap<object, Guard>();

/** The guard for `schema` (memoized: schemas are module constants). Throws UnsupportedSchemaError, see above. */
export function compileGuard(schema: z.core.$ZodType | Schema): Guard {
  const cached = built.get(schema);
  if (cached) return cached;
  const def = (schema as Schema)._zod.def;
  if (def.coerce) throw new UnsupportedSchemaError('coercion');
  let guard: Guard;
  switch (def.type) {
    case 'string': {
      const format = def.format;
      if (format !== undefined && (!PATTERN_FORMATS.has(format) || !(def.pattern instanceof RegExp))) {
        throw new UnsupportedSchemaError(`string format ${format}`);
      }
      // A format schema (z.uuid()) is a check of its own that zod runs first; it is not among `def.checks`.
      const pattern = format !== undefined ? (def.pattern as RegExp) : undefined;
      const isString: Guard = pattern
        ? (v) => {
            if (typeof v !== 'string') return false;
            pattern.lastIndex = 0;
            return pattern.test(v);
          }
        : (v) => typeof v === 'string';
      guard = withChecks(def, 'string', isString);
      break;
    }
    case 'number':
      guard = withChecks(def, 'number', (v) => typeof v === 'number' && Number.isFinite(v));
      break;
    case 'boolean':
      guard = withChecks(def, 'any', (v) => typeof v === 'boolean');
      break;
    case 'literal': {
      const values = def.values ?? [];
      guard = withChecks(def, 'any', (v) => values.includes(v));
      break;
    }
    case 'optional': {
      const inner = compileGuard(def.innerType as Schema);
      guard = withChecks(def, 'any', (v) => v === undefined || inner(v));
      break;
    }
    case 'array': {
      const element = compileGuard(def.element as Schema);
      guard = withChecks(def, 'length', (v) => {
        if (!Array.isArray(v)) return false;
        for (let i = 0; i < v.length; i++) if (!element(v[i])) return false;
        return true;
      });
      break;
    }
    case 'object':
      guard = objectGuard(def);
      break;
    case 'record':
      guard = recordGuard(def);
      break;
    case 'union':
      if (typeof def.discriminator !== 'string') throw new UnsupportedSchemaError('a union without a discriminator');
      guard = discriminatedUnionGuard(def);
      break;
    default:
      throw new UnsupportedSchemaError(`the type ${def.type}`);
  }
  built.set(schema, guard);
  return guard;
}

/**
 * `schema.safeParse(value)`, answered by the guard when it says yes (the value itself, as zod would have built
 * it), else by zod. The guard is built on the first call.
 */
export function guardedParser<S extends z.ZodType>(schema: S): (value: unknown) => z.ZodSafeParseResult<z.output<S>> {
  let guard: Guard | undefined;
  return (value) => {
    guard ??= compileGuard(schema);
    return guard(value) ? { success: true, data: value as z.output<S> } : schema.safeParse(value);
  };
}
