import { type Session, session } from '#lib/session/session.svelte.ts';
import { StreamClient } from './stream-client.svelte.ts';

/**
 * The tab's one live stream. Components subscribe through it; {@link bindLiveToSession} (called by
 * the app shell) opens it only while someone is signed in, and re-opens it when the organisation
 * changes, since the socket belongs to one tenant.
 */
export const live: StreamClient = new StreamClient({
  onUnauthorized: () => void reconnectIfStillSignedIn(live),
});

/**
 * The server closed the socket because some access ended. Sockets are closed per user, so this may
 * be another of the user's sessions signing out: ask /me again, which signs the shell out if this
 * session is gone, and otherwise reconnect.
 */
export async function reconnectIfStillSignedIn(client: Pick<StreamClient, 'connect'>): Promise<void> {
  await session.load();
  if (liveTenant(session) !== null) client.connect();
}

/** The organisation the socket should belong to, or null when no socket should be open. */
export function liveTenant(s: Pick<Session, 'status' | 'organization'>): string | null {
  return s.status === 'signed-in' ? (s.organization?.id ?? null) : null;
}

/** Opens, re-opens and closes a client as the tenant changes. */
export class LiveLifecycle {
  #tenant: string | null = null;
  readonly #client: StreamClient;

  constructor(client: StreamClient) {
    this.#client = client;
  }

  /** The current tenant (null: signed out, no socket). The same tenant again changes nothing. */
  set(tenant: string | null): void {
    if (tenant === this.#tenant) return;
    if (this.#tenant !== null) this.#client.close();
    this.#tenant = tenant;
    if (tenant !== null) this.#client.connect();
  }
}

/** Call during a component's initialisation: ties the socket to the session for that component's life. */
export function bindLiveToSession(client: StreamClient = live): void {
  const lifecycle = new LiveLifecycle(client);
  const tenant = $derived(liveTenant(session));
  $effect(() => {
    lifecycle.set(tenant);
  });
  $effect(() => {
    const online = () => client.retryNow();
    window.addEventListener('online', online);
    return () => {
      window.removeEventListener('online', online);
      lifecycle.set(null);
    };
  });
}
