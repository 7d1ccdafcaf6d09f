/**
 * Reads a V8 CPU profile of the Worker's isolate (stack/src/worker-profile.ts): self time per function and per
 * module. wrangler bundles the Worker into one file; esbuild marks where each source module starts with a
 * `// <path>` comment line, which is how a sample's line is traced back to `worker/src/...` or a package.
 */
import type { CpuProfile } from '@pulsewire/stack';

export interface ProfileEntry {
  name: string;
  selfMs: number;
  /** Of every sampled ms, idle excluded. */
  share: number;
}

export interface ProfileSummary {
  /** Sampled time, idle excluded. */
  busyMs: number;
  idleMs: number;
  byFunction: ProfileEntry[];
  byModule: ProfileEntry[];
}

/** The module each line of a bundle belongs to (0-based lines), from esbuild's `// <path>` markers. */
export function bundleModules(bundle: string): (line: number) => string | undefined {
  const starts: { line: number; module: string }[] = [];
  bundle.split('\n').forEach((text, line) => {
    const match = /^\/\/ ((?:\.\.\/)*[\w@.+-][\w@.+/-]*\.[cm]?[jt]s)$/.exec(text);
    if (match) starts.push({ line, module: match[1] as string });
  });
  return (line) => {
    let found: string | undefined;
    for (const start of starts) {
      if (start.line > line) break;
      found = start.module;
    }
    return found;
  };
}

/** `worker/src/ingest/store.ts`, or a package's name for anything under node_modules. */
export function moduleName(path: string): string {
  const pkg = /node_modules\/(?:\.pnpm\/[^/]+\/node_modules\/)?((?:@[^/]+\/)?[^/]+)/.exec(path);
  if (pkg) return pkg[1] as string;
  return path.replace(/^(\.\.\/)+/, '');
}

const RUNTIME = new Set(['(program)', '(garbage collector)', '(root)']);

export function summarizeProfile(
  profile: CpuProfile,
  moduleOf: (url: string, line: number) => string | undefined = () => undefined,
): ProfileSummary {
  const selfUs = new Map<number, number>();
  profile.samples.forEach((node, i) => {
    // A sample's time runs until the next one.
    const dt = profile.timeDeltas[i + 1] ?? 0;
    selfUs.set(node, (selfUs.get(node) ?? 0) + dt);
  });
  const byFunction = new Map<string, number>();
  const byModule = new Map<string, number>();
  let busyUs = 0;
  let idleUs = 0;
  for (const node of profile.nodes) {
    const us = selfUs.get(node.id) ?? 0;
    if (us === 0) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    if (functionName === '(idle)') {
      idleUs += us;
      continue;
    }
    busyUs += us;
    const module = RUNTIME.has(functionName)
      ? functionName
      : url
        ? (moduleOf(url, lineNumber) ?? url.replace(/^.*\//, ''))
        : '(native)';
    const fn = `${functionName || '(anonymous)'} ${module}${url ? `:${lineNumber + 1}` : ''}`;
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + us);
    const group = RUNTIME.has(functionName) || !url ? module : moduleName(module);
    byModule.set(group, (byModule.get(group) ?? 0) + us);
  }
  const entries = (m: Map<string, number>) =>
    [...m]
      .map(([name, us]) => ({ name, selfMs: us / 1000, share: busyUs ? us / busyUs : 0 }))
      .sort((a, b) => b.selfMs - a.selfMs);
  return { busyMs: busyUs / 1000, idleMs: idleUs / 1000, byFunction: entries(byFunction), byModule: entries(byModule) };
}
