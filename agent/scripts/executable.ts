/**
 * Builds the self-contained agent: one executable per Linux architecture that runs on a machine with no
 * Node.js. It is the single-file bundle (bundle.ts) compiled by Bun (`bun build --compile`): Bun's runtime
 * and the agent in one file. docs/decisions.md ("A self-contained agent") has the measurements behind
 * choosing Bun over Node's single executable applications and Deno. A `.sha256` file is written beside each.
 *
 *   node agent/scripts/executable.ts [--target linux-x64,linux-arm64 | all] [--outdir <dir>]
 *     (default: this machine's architecture, into agent/dist/)
 *
 * The compiling Bun is the `bun-runtime` devDependency (npm's `bun` package, whose binary ships in its
 * platform package, @oven/bun-linux-x64 or -aarch64). For the other architecture Bun fetches that runtime
 * from the npm registry on first use (cached in ~/.bun/install/cache).
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { bundleAgent } from './bundle.ts';

const AGENT_DIR = path.resolve(import.meta.dirname, '..');
export const DEFAULT_OUTDIR = path.join(AGENT_DIR, 'dist');

/** Our names for the architectures (the download file names), and Bun's. */
export const EXECUTABLE_TARGETS = {
  'linux-x64': 'bun-linux-x64',
  'linux-arm64': 'bun-linux-arm64',
} as const;
export type ExecutableTarget = keyof typeof EXECUTABLE_TARGETS;

/**
 * - `--compile-jit-policy=1000`: JavaScriptCore tiers a function up to its optimizing compilers only after
 *   1000 times the usual number of runs. The agent's code runs once a second at most, so the optimizing tiers
 *   bought nothing but their code and memory: measured beside node_exporter, 51–57 MB resident instead of 60–63,
 *   and no more CPU per cycle (docs/decisions.md).
 * - `--bytecode`: the bundle is compiled to JavaScriptCore bytecode at build time and read from the file, instead
 *   of parsed at every start: ~1 MB less resident and half the start time, for 4 MiB more file (docs/decisions.md).
 * - No `.env` or `bunfig.toml` autoloading: a standalone Bun executable reads them from the working folder by
 *   default, which for a system agent would let any folder it is started from change its settings.
 */
const COMPILE_FLAGS = [
  '--compile-jit-policy=1000',
  '--bytecode',
  '--no-compile-autoload-dotenv',
  '--no-compile-autoload-bunfig',
];

export const executableName = (target: ExecutableTarget) => `pulsewire-agent-${target}`;

/** The target this machine runs, if it is one we build. */
export function hostTarget(): ExecutableTarget | undefined {
  if (process.platform !== 'linux') return undefined;
  if (process.arch === 'x64') return 'linux-x64';
  if (process.arch === 'arm64') return 'linux-arm64';
  return undefined;
}

/** The Bun binary of the `bun-runtime` devDependency for this machine. */
export async function bunBinary(): Promise<string> {
  const requireFromAgent = createRequire(path.join(AGENT_DIR, 'package.json'));
  const bunPackage = requireFromAgent.resolve('bun-runtime/package.json');
  const requireFromBun = createRequire(bunPackage);
  const arch = process.arch === 'arm64' ? 'aarch64' : process.arch;
  const candidates = [
    `@oven/bun-${process.platform}-${arch}`,
    `@oven/bun-${process.platform}-${arch}-baseline`,
    `@oven/bun-${process.platform}-${arch}-musl`,
  ];
  for (const name of candidates) {
    try {
      return requireFromBun.resolve(`${name}/bin/bun`);
    } catch {
      // Not installed for this machine: try the next variant.
    }
  }
  // Where the package's postinstall ran, it replaced the placeholder with the binary.
  const linked = path.join(path.dirname(bunPackage), 'bin', 'bun.exe');
  if (((await stat(linked).catch(() => undefined))?.size ?? 0) > 1_000_000) return linked;
  throw new Error(`no Bun binary for ${process.platform}-${process.arch}: pnpm install should bring ${candidates[0]}`);
}

export interface ExecutableResult {
  target: ExecutableTarget;
  outfile: string;
  bytes: number;
  sha256: string;
  version: string;
}

export async function buildExecutables(
  targets: readonly ExecutableTarget[],
  outdir: string = DEFAULT_OUTDIR,
): Promise<ExecutableResult[]> {
  const bun = await bunBinary();
  const work = await mkdtemp(path.join(tmpdir(), 'pw-executable-'));
  try {
    const bundle = await bundleAgent(path.join(work, 'pulsewire-agent.mjs'), { executable: true });
    await mkdir(outdir, { recursive: true });
    const results: ExecutableResult[] = [];
    for (const target of targets) {
      const outfile = path.join(outdir, executableName(target));
      await promisify(execFile)(
        bun,
        [
          'build',
          '--compile',
          `--target=${EXECUTABLE_TARGETS[target]}`,
          ...COMPILE_FLAGS,
          '--outfile',
          outfile,
          bundle.outfile,
        ],
        // Bun writes temporary files beside its cwd; keep them in the work folder.
        { cwd: work, maxBuffer: 16 * 2 ** 20 },
      );
      const contents = await readFile(outfile);
      const sha256 = createHash('sha256').update(contents).digest('hex');
      await writeFile(`${outfile}.sha256`, `${sha256}  ${path.basename(outfile)}\n`);
      results.push({ target, outfile, bytes: contents.length, sha256, version: bundle.version });
    }
    return results;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

function parseTargets(text: string | undefined): ExecutableTarget[] {
  if (text === 'all') return Object.keys(EXECUTABLE_TARGETS) as ExecutableTarget[];
  if (!text) {
    const host = hostTarget();
    if (!host) throw new Error(`no executable for ${process.platform}-${process.arch}; name one with --target`);
    return [host];
  }
  return text.split(',').map((name) => {
    if (!(name in EXECUTABLE_TARGETS)) {
      throw new Error(`unknown target "${name}"; choose from ${Object.keys(EXECUTABLE_TARGETS).join(', ')}, all`);
    }
    return name as ExecutableTarget;
  });
}

if (import.meta.main) {
  const { values } = parseArgs({ options: { target: { type: 'string' }, outdir: { type: 'string' } } });
  const results = await buildExecutables(
    parseTargets(values.target),
    values.outdir ? path.resolve(values.outdir) : DEFAULT_OUTDIR,
  );
  for (const result of results) {
    console.log(
      `pulsewire-agent ${result.version} → ${path.relative(process.cwd(), result.outfile)} ` +
        `(${(result.bytes / 2 ** 20).toFixed(0)} MiB, sha256 ${result.sha256.slice(0, 16)}…)`,
    );
  }
}
