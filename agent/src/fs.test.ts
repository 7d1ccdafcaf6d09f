import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { mkdir, OpenFile, readdir, readFile, rename, stat, unlink, writeFile } from './fs.ts';
import { tmp } from './test/run-cli.ts';

describe("the agent's file calls", () => {
  it('append, sync and read back more than one write takes, in text and bytes', async () => {
    const dir = path.join(tmp('pw-fs-'), 'nested', 'dir');
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const file = path.join(dir, 'journal.jsonl');
    const big = `${'é'.repeat(3 * 1024 * 1024)}\n`;
    const handle = await OpenFile.open(file, 'a', 0o600);
    await handle.write('first\n');
    await handle.write(big);
    await handle.write(new TextEncoder().encode('last\n'));
    await handle.datasync();
    await handle.sync();
    await handle.close();
    expect(readFileSync(file, 'utf8')).toBe(`first\n${big}last\n`);
    expect(await readFile(file, 'utf8')).toBe(`first\n${big}last\n`);
    expect((await readFile(file)).length).toBe((await stat(file)).size);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
  });

  it('write, rename, list and remove, and reject with the errno code', async () => {
    const dir = tmp('pw-fs-');
    await writeFile(path.join(dir, 'a.tmp'), 'x', { mode: 0o600 });
    await rename(path.join(dir, 'a.tmp'), path.join(dir, 'a'));
    expect(await readdir(dir)).toEqual(['a']);
    await unlink(path.join(dir, 'a'));
    await expect(readFile(path.join(dir, 'a'), 'utf8')).rejects.toMatchObject({ code: 'ENOENT' });
    await expect(OpenFile.open(path.join(dir, 'missing'), 'r')).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
