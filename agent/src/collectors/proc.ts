import { readFile } from 'node:fs/promises';
import path from 'node:path';

/**
 * Where the Linux pseudo-filesystems are read from. Tests point these at recorded fixtures; in a container
 * watching its host they can point at bind mounts (e.g. `/host/proc`).
 */
export interface ProcPaths {
  proc: string;
  sys: string;
}

export const defaultProcPaths: ProcPaths = { proc: '/proc', sys: '/sys' };

export function readProc(paths: ProcPaths, ...segments: string[]): Promise<string> {
  return readFile(path.join(paths.proc, ...segments), 'utf8');
}

export function readSys(paths: ProcPaths, ...segments: string[]): Promise<string> {
  return readFile(path.join(paths.sys, ...segments), 'utf8');
}

export const isLinux = process.platform === 'linux';
