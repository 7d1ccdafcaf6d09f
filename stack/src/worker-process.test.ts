import { describe, expect, it } from 'vitest';
import { wranglerEnv } from './worker-process.ts';

describe('wranglerEnv', () => {
  it('turns wrangler dev’s local observability off only when asked', () => {
    expect(wranglerEnv({ localObservability: false }, {}).X_LOCAL_OBSERVABILITY).toBe('false');
    expect(wranglerEnv({}, {}).X_LOCAL_OBSERVABILITY).toBeUndefined();
    expect(wranglerEnv({ localObservability: true }, {}).X_LOCAL_OBSERVABILITY).toBeUndefined();
  });

  it('keeps the caller’s environment and stays offline', () => {
    const env = wranglerEnv({}, { PATH: '/bin', X_LOCAL_OBSERVABILITY: 'false' });
    expect(env.PATH).toBe('/bin');
    expect(env.X_LOCAL_OBSERVABILITY).toBe('false');
    expect(env.CLOUDFLARE_CF_FETCH_ENABLED).toBe('false');
    expect(env.WRANGLER_SEND_METRICS).toBe('false');
  });
});
