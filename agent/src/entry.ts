import path from 'node:path';

/**
 * The script this process runs: `src/cli.ts` in a checkout, the bundled `pulsewire-agent.mjs`
 * downloaded from the dashboard, or the installed bin. A systemd unit must run the same file.
 */
export function entryScript(argv: readonly string[] = process.argv): string {
  return path.resolve(argv[1] ?? 'pulsewire-agent');
}

/**
 * How the user typed this agent, for the hints it prints: `node pulsewire-agent.mjs` for a script
 * run by node (relative to the working folder when inside it), else the bin's name.
 */
export function invocation(argv: readonly string[] = process.argv, cwd: string = process.cwd()): string {
  const script = entryScript(argv);
  if (!/\.(c|m)?[jt]s$/.test(script)) return path.basename(script);
  const relative = path.relative(cwd, script);
  const shown = relative && !relative.startsWith('..') && !path.isAbsolute(relative) ? relative : script;
  return `node ${/\s/.test(shown) ? JSON.stringify(shown) : shown}`;
}
