/**
 * Builds the agent into one dependency-free file, `pulsewire-agent.mjs`, that any machine with
 * Node.js ≥ 22 runs as `node pulsewire-agent.mjs …`. The dashboard serves it from
 * `/downloads/pulsewire-agent.mjs` (root `pnpm build` writes it into web/build), so installing
 * the agent is one download, not a checkout. A `.sha256` file is written beside it.
 *
 *   node agent/scripts/bundle.ts [--outfile <path>]   (default agent/dist/pulsewire-agent.mjs)
 */
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import { build, type Plugin } from 'esbuild';

const AGENT_DIR = path.resolve(import.meta.dirname, '..');
const PROTOCOL_SRC = path.resolve(AGENT_DIR, '..', 'protocol', 'src');

/**
 * The protocol's modules build zod schemas at their top level, which esbuild must keep (a call might have a
 * side effect) even where the agent uses nothing of a module. They have none that the agent needs (`.meta()`
 * only names schemas for the OpenAPI document), so the modules it does not import from (accounts, alerts,
 * history, stream…) are left out: ~2 MB less heap at startup.
 */
const protocolWithoutSideEffects: Plugin = {
  name: 'protocol-without-side-effects',
  setup(build) {
    build.onResolve({ filter: /^@pulsewire\/protocol$/ }, () => ({
      path: path.join(PROTOCOL_SRC, 'index.ts'),
      sideEffects: false,
    }));
    build.onResolve({ filter: /^\.\.?\// }, (args) =>
      args.importer.startsWith(PROTOCOL_SRC + path.sep)
        ? { path: path.resolve(args.resolveDir, args.path), sideEffects: false }
        : undefined,
    );
  },
};
/**
 * systeminformation (~300 KiB minified) runs only off Linux and for the rare host fact /etc/os-release lacks
 * (src/collectors/si.ts imports it on first use), but a runtime keeps a script's whole source resident for as
 * long as it runs, used or not. So it is bundled on its own, as CommonJS, and carried gzipped in a string
 * (~90 KiB as base64) that is unpacked and evaluated when the agent first imports it: ~0.3 MiB less resident.
 */
export const packedSysteminformation: Plugin = {
  name: 'packed-systeminformation',
  setup(pluginBuild) {
    pluginBuild.onResolve({ filter: /^systeminformation$/ }, () => ({
      path: 'systeminformation',
      namespace: 'packed',
    }));
    pluginBuild.onLoad({ filter: /.*/, namespace: 'packed' }, async () => {
      const inner = await build({
        entryPoints: [createRequire(path.join(AGENT_DIR, 'package.json')).resolve('systeminformation')],
        bundle: true,
        write: false,
        platform: 'node',
        format: 'cjs',
        target: 'node22',
        minify: true,
        legalComments: 'inline',
        logLevel: 'warning',
        // macOS-only optional dependency, required inside a try/catch.
        external: ['osx-temperature-sensor'],
      });
      const code = inner.outputFiles[0]?.text ?? '';
      const packed = gzipSync(asciiOnly(code), { level: 9 }).toString('base64');
      return {
        resolveDir: AGENT_DIR,
        contents: [
          "import { gunzipSync } from 'node:zlib';",
          'const module = { exports: {} };',
          // `require` is the bundle's own (banner): Node's built-ins, and the optional module above failing.
          `new Function('module', 'exports', 'require', gunzipSync(Buffer.from(${JSON.stringify(packed)}, 'base64')).toString())(module, module.exports, require);`,
          'export default module.exports;',
        ].join('\n'),
      };
    });
  },
};

export const DEFAULT_OUTFILE = path.join(AGENT_DIR, 'dist', 'pulsewire-agent.mjs');

export interface BundleResult {
  outfile: string;
  bytes: number;
  sha256: string;
  version: string;
}

/**
 * Escapes what esbuild leaves non-ASCII (it escapes strings, not regular expression literals: one `°` in
 * systeminformation). Node decodes a script that is all ASCII into a one-byte string and anything else into
 * UTF-16, and V8 keeps the source for as long as the process runs: ASCII halves that (~1 MB). `\uXXXX` means
 * the same character in a regular expression, a string or an identifier; the rest are comments.
 */
export function asciiOnly(code: string): string {
  return code.replace(/[\u0080-\uffff]/g, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

export async function bundleAgent(
  outfile: string = DEFAULT_OUTFILE,
  options: { executable?: boolean } = {},
): Promise<BundleResult> {
  const pkg = JSON.parse(await readFile(path.join(AGENT_DIR, 'package.json'), 'utf8')) as { version: string };
  await build({
    entryPoints: [path.join(AGENT_DIR, 'src', 'cli.ts')],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node22',
    // Identifiers too: V8 (and JavaScriptCore) keep the bundle's source for as long as the agent runs, and
    // shorter names make it 675 → 490 KiB (0.2 MiB resident). Errors the agent reports carry their messages
    // and explicit names (`override name = …`), not the functions' names.
    minify: true,
    legalComments: 'eof',
    logLevel: 'warning',
    banner: {
      // systeminformation is CommonJS and requires Node's built-ins at run time; ESM output has no
      // `require` unless we make one. (esbuild keeps cli.ts's shebang above this.)
      js: [
        // Checked before any bundled module runs, so an old Node gets a sentence, not a stack trace.
        'if (Number(process.versions.node.split(".")[0]) < 22) {',
        "  console.error('pulsewire-agent needs Node.js 22 or newer; this is Node.js ' + process.version + '.');",
        '  process.exit(2);',
        '}',
        "import { createRequire as __pulsewireCreateRequire } from 'node:module';",
        'const require = __pulsewireCreateRequire(import.meta.url);',
      ].join('\n'),
    },
    define: {
      __PULSEWIRE_AGENT_VERSION__: JSON.stringify(pkg.version),
      // The bundle is only ever an entry point; Node 22 before 22.18 has no import.meta.main.
      'import.meta.main': 'true',
      // The self-contained executable (scripts/executable.ts) runs itself, not `node <script>`.
      ...(options.executable ? { __PULSEWIRE_EXECUTABLE__: 'true' } : {}),
    },
    // macOS-only optional dependency of systeminformation, required inside a try/catch.
    external: ['osx-temperature-sensor'],
    plugins: [protocolWithoutSideEffects, packedSysteminformation],
  });
  await writeFile(outfile, asciiOnly(await readFile(outfile, 'utf8')));
  const contents = await readFile(outfile);
  const sha256 = createHash('sha256').update(contents).digest('hex');
  await writeFile(`${outfile}.sha256`, `${sha256}  ${path.basename(outfile)}\n`);
  return { outfile, bytes: contents.length, sha256, version: pkg.version };
}

if (import.meta.main) {
  const { values } = parseArgs({ options: { outfile: { type: 'string' } } });
  const result = await bundleAgent(values.outfile ? path.resolve(values.outfile) : DEFAULT_OUTFILE);
  console.log(
    `pulsewire-agent ${result.version} → ${path.relative(process.cwd(), result.outfile)} ` +
      `(${(result.bytes / 1024).toFixed(0)} KiB, sha256 ${result.sha256.slice(0, 16)}…)`,
  );
}
