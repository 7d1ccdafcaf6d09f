import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { OpenFile, rename, unlink } from '../fs.ts';

export const TMP_SUFFIX = '.tmp';

/**
 * Writes `data` so that after a crash (even `kill -9` or power loss) the file either has all of it or does
 * not exist: temporary file, fsync, rename, fsync of the folder (which makes the rename itself durable).
 */
export async function writeFileDurable(file: string, data: Uint8Array | string): Promise<void> {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${randomUUID().slice(0, 8)}${TMP_SUFFIX}`);
  const handle = await OpenFile.open(tmp, 'w', 0o600);
  try {
    await handle.write(data);
    await handle.sync();
  } catch (error) {
    await handle.close();
    await unlink(tmp).catch(() => undefined);
    throw error;
  }
  await handle.close();
  await rename(tmp, file);
  await syncDir(path.dirname(file));
}

export async function syncDir(dir: string): Promise<void> {
  // Some filesystems refuse fsync on a folder (EISDIR/EINVAL); the rename is still atomic there.
  const handle = await OpenFile.open(dir, 'r').catch(() => undefined);
  if (!handle) return;
  await handle.sync().catch(() => undefined);
  await handle.close();
}
