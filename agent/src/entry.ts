import path from 'node:path';

/** Set by scripts/executable.ts in the self-contained executable, where the program is the file itself. */
declare const __PULSEWIRE_EXECUTABLE__: boolean | undefined;

/** This process is the self-contained executable (no `node`, no script). */
export const IS_EXECUTABLE = typeof __PULSEWIRE_EXECUTABLE__ === 'boolean' && __PULSEWIRE_EXECUTABLE__;

/**
 * The script this process runs: `src/cli.ts` in a checkout, the bundled `pulsewire-agent.mjs`
 * downloaded from the dashboard, or the installed bin. A systemd unit must run the same file.
 */
export function entryScript(argv: readonly string[] = process.argv): string {
  return path.resolve(argv[1] ?? 'pulsewire-agent');
}

/**
 * What runs this agent again, as an argument vector: the executable alone, or node (with `nodeFlags`) and
 * the script. (In the executable, argv[1] names a file inside it, not one on disk.)
 */
export function agentCommand(
  executable: string | undefined = IS_EXECUTABLE ? process.execPath : undefined,
  nodeFlags: readonly string[] = [],
): string[] {
  return executable ? [executable] : [process.execPath, ...nodeFlags, entryScript()];
}

const shown = (file: string) => (/\s/.test(file) ? JSON.stringify(file) : file);

/**
 * How the user typed this agent, for the hints it prints: `./pulsewire-agent-linux-x64` for the executable
 * in the working folder (else its absolute path), `node pulsewire-agent.mjs` for a script run by node
 * (relative to the working folder when inside it), else the bin's name.
 */
export function invocation(
  argv: readonly string[] = process.argv,
  cwd: string = process.cwd(),
  executable: string | undefined = IS_EXECUTABLE ? process.execPath : undefined,
): string {
  if (executable) {
    return shown(path.dirname(executable) === path.resolve(cwd) ? `./${path.basename(executable)}` : executable);
  }
  const script = entryScript(argv);
  if (!/\.(c|m)?[jt]s$/.test(script)) return path.basename(script);
  const relative = path.relative(cwd, script);
  return `node ${shown(relative && !relative.startsWith('..') && !path.isAbsolute(relative) ? relative : script)}`;
}
