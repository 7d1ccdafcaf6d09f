/**
 * Uploads the agent executables and their checksums (scripts/executable.ts) to the Worker's DOWNLOADS R2
 * bucket, under this deployment's version, where worker/src/downloads.ts serves them: a static asset may
 * be 25 MiB at most and an executable is ~105 MiB. `pnpm deploy` runs it with --remote before
 * `wrangler deploy`; for `pnpm dev`, `--local --persist-to .data/wrangler` fills the bucket `wrangler dev`
 * emulates. `--dry-run` prints the uploads without making them.
 *
 *   node agent/scripts/publish-executables.ts (--remote | --local [--persist-to <dir>] | --dry-run) [--dir dist/downloads]
 */
import { execFile } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { downloadKey, EXECUTABLE_FILE } from '../../worker/src/download-files.ts';

const ROOT = path.resolve(import.meta.dirname, '..', '..');

/** The bucket bound as DOWNLOADS in wrangler.toml. */
export function downloadsBucket(wranglerToml: string): string {
  for (const block of wranglerToml.split(/^\[\[r2_buckets\]\]$/m).slice(1)) {
    const body = block.split(/^\[/m)[0] ?? '';
    if (/^binding\s*=\s*"DOWNLOADS"/m.test(body)) {
      const name = /^bucket_name\s*=\s*"([^"]+)"/m.exec(body)?.[1];
      if (name) return name;
    }
  }
  throw new Error('wrangler.toml binds no R2 bucket as DOWNLOADS');
}

export interface Upload {
  file: string;
  objectPath: string;
  contentType: string;
}

/** What goes where: every executable and checksum in `dir`, keyed by `version`. */
export async function plannedUploads(dir: string, bucket: string, version: string): Promise<Upload[]> {
  const files = (await readdir(dir)).filter((name) => EXECUTABLE_FILE.test(name)).sort();
  if (!files.some((name) => !name.endsWith('.sha256'))) throw new Error(`no agent executable in ${dir}`);
  return files.map((name) => ({
    file: path.join(dir, name),
    objectPath: `${bucket}/${downloadKey(name, version)}`,
    contentType: name.endsWith('.sha256') ? 'text/plain; charset=utf-8' : 'application/octet-stream',
  }));
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: {
      remote: { type: 'boolean' },
      local: { type: 'boolean' },
      'persist-to': { type: 'string' },
      'dry-run': { type: 'boolean' },
      dir: { type: 'string', default: path.join(ROOT, 'dist', 'downloads') },
    },
  });
  if ([values.remote, values.local, values['dry-run']].filter(Boolean).length !== 1) {
    console.error('say where: --remote (the deployed bucket), --local (wrangler dev) or --dry-run');
    process.exit(2);
  }
  const { version } = JSON.parse(await readFile(path.join(ROOT, 'package.json'), 'utf8')) as { version: string };
  const bucket = downloadsBucket(await readFile(path.join(ROOT, 'wrangler.toml'), 'utf8'));
  const wrangler = path.join(ROOT, 'node_modules', '.bin', 'wrangler');
  for (const upload of await plannedUploads(path.resolve(values.dir), bucket, version)) {
    const args = [
      'r2',
      'object',
      'put',
      upload.objectPath,
      '--file',
      upload.file,
      '--content-type',
      upload.contentType,
    ];
    if (values.remote) args.push('--remote');
    if (values.local) args.push('--local', ...(values['persist-to'] ? ['--persist-to', values['persist-to']] : []));
    console.log(
      `${values['dry-run'] ? 'would upload' : 'uploading'} ${path.relative(ROOT, upload.file)} → ${upload.objectPath}`,
    );
    if (!values['dry-run']) await promisify(execFile)(wrangler, args, { cwd: ROOT, maxBuffer: 16 * 2 ** 20 });
  }
}
