import { describe, expect, it } from 'vitest';
import { agentCommand, entryScript, invocation } from './entry.ts';

describe('how the agent names itself', () => {
  it('is `node <script>` relative to the working folder for a script run by node', () => {
    expect(invocation(['/usr/bin/node', '/home/ada/pulsewire-agent.mjs'], '/home/ada')).toBe(
      'node pulsewire-agent.mjs',
    );
    expect(invocation(['/usr/bin/node', '/repo/agent/src/cli.ts'], '/repo')).toBe('node agent/src/cli.ts');
  });

  it('is the absolute path for a script outside the working folder, quoted when it has spaces', () => {
    expect(invocation(['node', '/opt/pw/pulsewire-agent.mjs'], '/home/ada')).toBe('node /opt/pw/pulsewire-agent.mjs');
    expect(invocation(['node', '/opt/my tools/pulsewire-agent.mjs'], '/home/ada')).toBe(
      'node "/opt/my tools/pulsewire-agent.mjs"',
    );
  });

  it('is the bin name for an installed command', () => {
    expect(invocation(['/usr/bin/node', '/usr/local/bin/pulsewire-agent'], '/tmp')).toBe('pulsewire-agent');
  });

  it('resolves the script to an absolute path for a systemd unit', () => {
    expect(entryScript(['node', '/opt/pw/pulsewire-agent.mjs'])).toBe('/opt/pw/pulsewire-agent.mjs');
  });

  it('is the executable itself, ./-prefixed in the working folder, for the self-contained build', () => {
    const exe = '/home/ada/pulsewire-agent-linux-x64';
    // argv[1] of the executable names a file inside it: it must not show up.
    const argv = ['bun', '/$bunfs/root/pulsewire-agent-linux-x64'];
    expect(invocation(argv, '/home/ada', exe)).toBe('./pulsewire-agent-linux-x64');
    expect(invocation(argv, '/tmp', exe)).toBe(exe);
    expect(invocation(argv, '/tmp', '/opt/my tools/pulsewire-agent')).toBe('"/opt/my tools/pulsewire-agent"');
    expect(agentCommand(exe)).toEqual([exe]);
  });

  it('runs again as node and the script when not the executable', () => {
    expect(agentCommand(undefined)).toEqual([process.execPath, entryScript()]);
  });
});
