import { DurableObject } from 'cloudflare:workers';
import type { Env } from '../env.ts';

export interface RateLimitVerdict {
  allowed: boolean;
  remaining: number;
  /** Seconds until the window that refused the request ends; 0 when allowed. */
  retryAfterSeconds: number;
}

interface Window {
  start: number;
  count: number;
}

/**
 * One object per limited key (`login:ip:…`, `login:account:…`): a fixed-window counter in the
 * object's own storage, so every Worker isolate sees the same count and it survives eviction.
 */
export class RateLimiterObject extends DurableObject<Env> {
  /** Whether the key is still under its limit, without counting anything. */
  async peek(limit: number, windowSeconds: number): Promise<RateLimitVerdict> {
    const now = Date.now();
    const windowMs = windowSeconds * 1000;
    const window = await this.ctx.storage.get<Window>('window');
    if (!window || now - window.start >= windowMs || window.count < limit) {
      return {
        allowed: true,
        remaining: limit - (window && now - window.start < windowMs ? window.count : 0),
        retryAfterSeconds: 0,
      };
    }
    return {
      allowed: false,
      remaining: 0,
      retryAfterSeconds: Math.max(1, Math.ceil((window.start + windowMs - now) / 1000)),
    };
  }

  async hit(limit: number, windowSeconds: number): Promise<RateLimitVerdict> {
    const now = Date.now();
    const windowMs = windowSeconds * 1000;
    let window = (await this.ctx.storage.get<Window>('window')) ?? { start: now, count: 0 };
    if (now - window.start >= windowMs) window = { start: now, count: 0 };
    if (window.count >= limit) {
      return {
        allowed: false,
        remaining: 0,
        retryAfterSeconds: Math.max(1, Math.ceil((window.start + windowMs - now) / 1000)),
      };
    }
    window.count += 1;
    await this.ctx.storage.put('window', window);
    // Clean up once the window is over, so idle keys cost nothing.
    await this.ctx.storage.setAlarm(window.start + windowMs);
    return { allowed: true, remaining: limit - window.count, retryAfterSeconds: 0 };
  }

  override async alarm(): Promise<void> {
    await this.ctx.storage.deleteAll();
  }
}
