import type { HealthResponse } from '@pulsewire/protocol';
import { ApiError, getHealth, isApiError } from '#lib/api/client.ts';

/** How often the status page re-checks the API's health. */
export const REFRESH_INTERVAL_MS = 10_000;

/** What the status page shows as the API's state; also the text of `data-testid="api-status"`. */
export type ApiState = 'ok' | 'degraded' | 'unreachable';

export type HealthCheck =
  | { ok: true; health: HealthResponse; checkedAt: Date; roundTripMs: number }
  | { ok: false; error: ApiError; checkedAt: Date };

export function apiState(check: HealthCheck): ApiState {
  return check.ok ? check.health.status : 'unreachable';
}

/** True when nothing answered for the API: no response at all, or a gateway error page instead of an API body. */
export function isUnreachable(error: ApiError): boolean {
  return error.status === 0 || (error.code === 'invalid_response' && [502, 503, 504].includes(error.status));
}

/** Polls `GET /api/v1/health`; the latest result is reactive state for the status page. */
export class HealthMonitor {
  /** The latest finished check; `null` until the first one finishes. */
  last = $state<HealthCheck | null>(null);
  /** A check is in flight. */
  loading = $state(false);

  #controller: AbortController | null = null;

  /** Runs one check unless one is in flight. Returns the new result, or `null` if skipped or cancelled. */
  async check(): Promise<HealthCheck | null> {
    if (this.loading) return null;
    const controller = new AbortController();
    this.#controller = controller;
    this.loading = true;
    const started = performance.now();
    try {
      const health = await getHealth({ signal: controller.signal });
      this.last = { ok: true, health, checkedAt: new Date(), roundTripMs: performance.now() - started };
    } catch (error) {
      if (controller.signal.aborted) return null;
      this.last = { ok: false, error: toApiError(error), checkedAt: new Date() };
    } finally {
      if (this.#controller === controller) {
        this.#controller = null;
        this.loading = false;
      }
    }
    return this.last;
  }

  /** Cancels the check in flight (when the page is left). */
  stop(): void {
    this.#controller?.abort();
    this.#controller = null;
    this.loading = false;
  }
}

function toApiError(error: unknown): ApiError {
  if (isApiError(error)) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new ApiError({ status: 0, code: 'client_error', message, cause: error });
}
