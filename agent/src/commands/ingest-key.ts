import { ConfigError } from '../config/load.ts';
import { readFile } from '../fs.ts';

export interface IngestKeySources {
  /** `--key`: works, but the key is then in the process list (`ps`) for every user of the machine. */
  key?: string | undefined;
  /** `--key-file <file>`, or `-` for standard input. */
  keyFile?: string | undefined;
  /** `PULSEWIRE_KEY`: only the same user (and root) can read a process's environment. */
  envKey?: string | undefined;
}

export const KEY_ON_COMMAND_LINE_WARNING =
  'warning: --key puts the ingest key on the command line, where other users of this machine can see it (ps); ' +
  'use PULSEWIRE_KEY=<key> or --key-file <file|-> instead';

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  let text = '';
  for await (const chunk of stream) text += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
  return text;
}

/**
 * The ingest key for `enroll`: `--key-file` (a file, or `-` for stdin) first, then `--key` (with a warning on
 * `warn`), then `PULSEWIRE_KEY`. Surrounding whitespace (a file's trailing newline) is dropped.
 */
export async function readIngestKey(
  sources: IngestKeySources,
  warn: (line: string) => void,
  stdin: NodeJS.ReadableStream = process.stdin,
): Promise<string> {
  if (sources.key !== undefined && sources.keyFile !== undefined) {
    throw new ConfigError('enroll takes the ingest key once: --key-file or --key, not both');
  }
  let key: string | undefined;
  if (sources.keyFile !== undefined) {
    const from = sources.keyFile === '-' ? 'standard input' : sources.keyFile;
    try {
      key = (sources.keyFile === '-' ? await readAll(stdin) : await readFile(sources.keyFile, 'utf8')).trim();
    } catch (error) {
      throw new ConfigError(`--key-file: cannot read ${from}: ${(error as Error).message}`);
    }
    if (!key) throw new ConfigError(`--key-file: ${from} holds no key`);
    if (/\s/.test(key)) throw new ConfigError(`--key-file: ${from} should hold the key alone, on one line`);
    return key;
  }
  if (sources.key !== undefined) {
    warn(KEY_ON_COMMAND_LINE_WARNING);
    key = sources.key.trim();
  } else {
    key = sources.envKey?.trim();
  }
  if (!key) {
    throw new ConfigError(
      'enroll needs an ingest API key: PULSEWIRE_KEY=<key> in the environment, or --key-file <file|-> (or --key <key>)',
    );
  }
  return key;
}
