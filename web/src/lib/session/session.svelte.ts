import { type Role, roleAtLeast } from '@pulsewire/protocol';
import { auth, type Me } from '#lib/api/accounts.ts';
import { ApiError, isApiError } from '#lib/api/client.ts';

export type SessionStatus = 'loading' | 'signed-in' | 'signed-out' | 'no-organization' | 'error';

export { roleAtLeast };

/**
 * Who is signed in, as `GET /me` says: the user, the organisation the session works in and the
 * caller's role there. One instance for the SPA ({@link session}); pages read it reactively.
 */
export class Session {
  me = $state<Me | null>(null);
  status = $state<SessionStatus>('loading');
  /** The failure of the last load when it was not "signed out" (network, server). */
  error = $state<ApiError | null>(null);

  #inflight: Promise<Me | null> | null = null;
  #loaded = false;

  get user() {
    return this.me?.user ?? null;
  }
  get organization() {
    return this.me?.organization ?? null;
  }
  get role(): Role | undefined {
    return this.me?.organization.role;
  }
  get isAdmin(): boolean {
    return roleAtLeast(this.role, 'admin');
  }
  get isOwner(): boolean {
    return roleAtLeast(this.role, 'owner');
  }

  /** Loads `/me` (again). Resolves to the user, or `null` when signed out or without an organisation. */
  load(): Promise<Me | null> {
    this.#inflight ??= this.#fetch().finally(() => {
      this.#inflight = null;
    });
    return this.#inflight;
  }

  /** The loaded session, loading it the first time only. */
  ensure(): Promise<Me | null> {
    if (this.#loaded && !this.#inflight) return Promise.resolve(this.me);
    return this.load();
  }

  /** Adopts a `MeResponse` from login, reset, switch or accept without another round trip. */
  set(me: Me): void {
    this.me = me;
    this.status = 'signed-in';
    this.error = null;
    this.#loaded = true;
  }

  /** Forgets the user after sign-out. */
  clear(): void {
    this.me = null;
    this.status = 'signed-out';
    this.error = null;
    this.#loaded = true;
  }

  async #fetch(): Promise<Me | null> {
    if (!this.#loaded) this.status = 'loading';
    try {
      this.set(await auth.me());
      return this.me;
    } catch (error) {
      this.#loaded = true;
      this.me = null;
      if (isApiError(error) && error.status === 401) {
        this.status = 'signed-out';
        this.error = null;
      } else if (isApiError(error) && error.code === 'no_organization') {
        this.status = 'no-organization';
        this.error = null;
      } else {
        this.status = 'error';
        this.error = isApiError(error)
          ? error
          : new ApiError({ status: 0, code: 'client_error', message: String(error), cause: error });
      }
      return null;
    }
  }
}

export const session = new Session();
