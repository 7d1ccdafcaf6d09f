import { describe, expect, it } from 'vitest';
import { missingTuning, NODE_RUN_ENV, NODE_RUN_FLAGS, TUNED_MARK, tuneNodeForRun } from './node-tuning.ts';

describe("the Node agent's tuning", () => {
  it('lacks every flag and variable when started plainly', () => {
    expect(missingTuning([], {})).toEqual({ flags: [...NODE_RUN_FLAGS], env: { ...NODE_RUN_ENV } });
  });

  it("keeps the user's own value of a flag, in either spelling, on the command line or in NODE_OPTIONS", () => {
    const missing = missingTuning(['--max_opt=3', '--node-snapshot'], {
      NODE_OPTIONS: '--no-single-threaded',
      MALLOC_MMAP_THRESHOLD_: '0',
    });
    expect(missing).toEqual({ flags: ['--max-semi-space-size=1'], env: {} });
  });

  it('lacks nothing once re-executed, whatever happened to the flags', () => {
    expect(missingTuning([], { [TUNED_MARK]: '1' })).toEqual({ flags: [], env: {} });
  });

  it('re-executes the same command with what is missing, marked, and only under Node with execve', () => {
    const calls: [string, string[], Record<string, string | undefined>][] = [];
    const proc = {
      execPath: '/usr/bin/node',
      execArgv: ['--max-semi-space-size=1'],
      argv: ['/usr/bin/node', '/opt/pulsewire-agent.mjs', 'run', '--config', '/etc/pw.json'],
      env: { PATH: '/usr/bin' },
      versions: process.versions,
      execve: ((file: string, args: string[], env: Record<string, string | undefined>) => {
        calls.push([file, args, env]);
      }) as never,
    };
    tuneNodeForRun(proc);
    expect(calls).toEqual([
      [
        '/usr/bin/node',
        [
          '/usr/bin/node',
          '--max-semi-space-size=1',
          '--max-opt=0',
          '--single-threaded',
          '--no-node-snapshot',
          '/opt/pulsewire-agent.mjs',
          'run',
          '--config',
          '/etc/pw.json',
        ],
        { PATH: '/usr/bin', ...NODE_RUN_ENV, [TUNED_MARK]: '1' },
      ],
    ]);
    // Already tuned (as the systemd unit starts it), under Bun, or on a Node without execve: it runs on.
    tuneNodeForRun({ ...proc, execArgv: [...NODE_RUN_FLAGS], env: { ...NODE_RUN_ENV } });
    tuneNodeForRun({ ...proc, versions: { ...process.versions, bun: '1.4.5' } });
    tuneNodeForRun({ ...proc, execve: undefined });
    expect(calls).toHaveLength(1);
  });
});
