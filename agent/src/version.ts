import { createRequire } from 'node:module';

/** Set by the single-file bundle (scripts/bundle.ts), which has no package.json beside it. */
declare const __PULSEWIRE_AGENT_VERSION__: string | undefined;

export const AGENT_VERSION: string =
  typeof __PULSEWIRE_AGENT_VERSION__ === 'string'
    ? __PULSEWIRE_AGENT_VERSION__
    : (createRequire(import.meta.url)('../package.json') as { version: string }).version;
