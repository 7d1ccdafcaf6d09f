import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { chmod, mkdir, rename, writeFile } from '../fs.ts';
import { ConfigFile } from './schema.ts';

/** Writes the config atomically with mode 0600 in a 0700 folder: it holds the host's private key. */
export async function writeConfigFile(file: string, config: ConfigFile): Promise<void> {
  const checked = ConfigFile.parse(config);
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${randomUUID()}.tmp`;
  await writeFile(tmp, `${JSON.stringify(checked, null, 2)}\n`, { mode: 0o600 });
  await chmod(tmp, 0o600);
  await rename(tmp, file);
}
