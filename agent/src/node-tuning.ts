/**
 * How `run` is tuned under Node.js for a small resident footprint, and how it gets that tuning however it was
 * started. Measured beside node_exporter (docs/decisions.md, "The Node agent toward 60 MB" and "Less JavaScript
 * held"); no setting but `--max-opt=0` (~3 %) costs CPU per cycle we could measure, where `--lite-mode` and
 * `--jitless` cost ~30 %:
 *
 * - `--max-semi-space-size=1`: V8's young generation grows to 16 MiB semi-spaces under start-up's allocation
 *   bursts and keeps them; the agent allocates little once running (3–4 MB).
 * - `--max-opt=0`: Ignition, V8's interpreter, is the only tier (regular expressions still compiled). Code that
 *   runs once a second gains nothing from Maglev and TurboFan (~9 MB of their code, zones and optimized code), and
 *   Sparkplug's baseline code and the feedback it needs cost ~1 MiB more at the 1 s cadence than the ~3 % CPU per
 *   cycle it saved there (`--max-opt=1` until 30 Nov; docs/decisions.md, "Less JavaScript held").
 * - `--single-threaded`: no background compile or GC threads (each with a malloc arena); the heap is small.
 * - `--no-node-snapshot`: Node bootstraps from its built-in modules' sources instead of deserializing its startup
 *   snapshot, whose heap (every module bootstrap loads, their functions compiled) and binary pages stay resident
 *   for the whole run: 2.5–2.8 MiB less, for ~25 ms more start and no CPU per cycle we could measure.
 * - `MALLOC_MMAP_THRESHOLD_=32768` (glibc): V8 parses and compiles the 1 MB bundle at start-up in zone memory
 *   of 8–32 KiB segments that glibc then keeps in a fragmented heap (~5 MB). From mmap they go back when freed.
 */
export const NODE_RUN_FLAGS = [
  '--max-semi-space-size=1',
  '--max-opt=0',
  '--single-threaded',
  '--no-node-snapshot',
] as const;
export const NODE_RUN_ENV: Readonly<Record<string, string>> = { MALLOC_MMAP_THRESHOLD_: '32768' };

/** Set in the environment of the re-executed process, so that it never re-executes again. */
export const TUNED_MARK = 'PULSEWIRE_AGENT_TUNED';

/** `--max_opt=3` and `--max-opt 3` name the same V8 option as `--max-opt=0`; `--no-x` the same as `--x`. */
function optionName(arg: string): string {
  return (
    arg
      .split('=')[0]
      ?.replaceAll('_', '-')
      .replace(/^--no-/, '--') ?? arg
  );
}

/**
 * What this process lacks of the tuning above: flags the user (or the unit) did not set, with any value, on
 * the command line or in NODE_OPTIONS, and environment variables not set. Empty when already re-executed.
 */
export function missingTuning(
  execArgv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): { flags: string[]; env: Record<string, string> } {
  if (env[TUNED_MARK]) return { flags: [], env: {} };
  const given = new Set([...execArgv, ...(env.NODE_OPTIONS ?? '').split(/\s+/)].map(optionName));
  const flags = NODE_RUN_FLAGS.filter((flag) => !given.has(optionName(flag)));
  const missingEnv = Object.fromEntries(Object.entries(NODE_RUN_ENV).filter(([name]) => env[name] === undefined));
  return { flags, env: missingEnv };
}

type Execve = (file: string, args: string[], env: Record<string, string | undefined>) => never;

/**
 * `run` started as `node pulsewire-agent.mjs run` (not by the unit, which sets all of it) replaces itself with
 * the same command plus the missing tuning: `process.execve` (Node ≥ 22.15) keeps the pid, so a supervisor,
 * `kill` and the status file still see the one agent, and nothing of the first start stays resident. Only
 * under Node (Bun's executable has its own settings, scripts/executable.ts); without `execve` the agent runs
 * untuned, as before. Returns only when it did not re-execute.
 */
export function tuneNodeForRun(
  proc: Pick<NodeJS.Process, 'execArgv' | 'argv' | 'execPath' | 'env' | 'versions'> & { execve?: Execve } = process,
): void {
  if (proc.versions.bun || typeof proc.execve !== 'function') return;
  const missing = missingTuning(proc.execArgv, proc.env);
  if (missing.flags.length === 0 && Object.keys(missing.env).length === 0) return;
  proc.execve(proc.execPath, [proc.execPath, ...proc.execArgv, ...missing.flags, ...proc.argv.slice(1)], {
    ...proc.env,
    ...missing.env,
    [TUNED_MARK]: '1',
  });
}
