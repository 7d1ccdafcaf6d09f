import type si from 'systeminformation';

let loading: Promise<typeof si> | undefined;

/**
 * systeminformation, loaded the first time something needs it: the fallbacks off Linux, and host facts a
 * Linux machine does not describe in /etc/os-release. On Linux `run` reads /proc and /sys itself and never
 * loads it, which keeps its ~420 KiB of code out of the agent's memory (about 2.5 MB resident).
 */
export function systeminformation(): Promise<typeof si> {
  loading ??= import('systeminformation').then((module) => module.default);
  return loading;
}
