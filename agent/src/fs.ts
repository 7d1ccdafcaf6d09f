// biome-ignore lint/style/noRestrictedImports: types only, erased from the bundle.
import type Fs from 'node:fs';
import { load } from './builtins.ts';

/**
 * The file system calls the agent makes, on node:fs's callbacks, without an ES import of node:fs or
 * node:fs/promises. An ES import of node:fs reads every export, and its `promises` getter loads
 * fs/promises with the readline and REPL-history modules it requires: ~0.45 MB resident for an agent that
 * needs a dozen calls (docs/decisions.md, "The Node agent toward 60 MB").
 */
export const fs: typeof Fs = load('node:fs');

type Callback<T> = (error: NodeJS.ErrnoException | null, value: T) => void;

function settle<T>(start: (callback: Callback<T>) => void): Promise<T> {
  return new Promise((resolve, reject) => start((error, value) => (error ? reject(error) : resolve(value))));
}

export function readFile(file: string): Promise<Buffer>;
export function readFile(file: string, encoding: 'utf8'): Promise<string>;
export function readFile(file: string, encoding?: 'utf8'): Promise<Buffer | string> {
  return settle<Buffer | string>((done) => fs.readFile(file, encoding ?? null, done));
}

export const writeFile = (file: string, data: string | Uint8Array, options: { mode?: number } = {}) =>
  settle<void>((done) => fs.writeFile(file, data, options, done));

export const appendFile = (file: string, data: string, options: { mode?: number } = {}) =>
  settle<void>((done) => fs.appendFile(file, data, options, done));

export const mkdir = (dir: string, options: { recursive?: boolean; mode?: number } = {}) =>
  settle<string | undefined>((done) => fs.mkdir(dir, options, done));

export const readdir = (dir: string) => settle<string[]>((done) => fs.readdir(dir, done));
export const stat = (file: string) => settle<Fs.Stats>((done) => fs.stat(file, done));
export const statfs = (file: string) => settle<Fs.StatsFs>((done) => fs.statfs(file, done));
export const access = (file: string) => settle<void>((done) => fs.access(file, done));
export const chmod = (file: string, mode: number) => settle<void>((done) => fs.chmod(file, mode, done));
export const rename = (from: string, to: string) => settle<void>((done) => fs.rename(from, to, done));
export const unlink = (file: string) => settle<void>((done) => fs.unlink(file, done));

/** An open file descriptor: the few FileHandle methods the spool and the journal use. */
export class OpenFile {
  readonly #fd: number;

  private constructor(fd: number) {
    this.#fd = fd;
  }

  static async open(file: string, flags: string, mode?: number): Promise<OpenFile> {
    return new OpenFile(await settle<number>((done) => fs.open(file, flags, mode, done)));
  }

  /** Writes all of `data` at the current position (the end, for a file opened to append). */
  async write(data: string | Uint8Array): Promise<void> {
    let bytes = typeof data === 'string' ? Buffer.from(data) : data;
    while (bytes.length > 0) {
      const chunk = bytes;
      const written = await settle<number>((done) => fs.write(this.#fd, chunk, 0, chunk.length, null, done));
      bytes = bytes.subarray(written);
    }
  }

  sync(): Promise<void> {
    return settle<void>((done) => fs.fsync(this.#fd, done));
  }

  datasync(): Promise<void> {
    return settle<void>((done) => fs.fdatasync(this.#fd, done));
  }

  close(): Promise<void> {
    return settle<void>((done) => fs.close(this.#fd, done));
  }
}
