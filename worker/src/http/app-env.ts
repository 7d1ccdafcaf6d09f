import type { Role } from '@pulsewire/protocol';
import type { DatabaseHandle } from '../db/client.ts';
import type { Env } from '../env.ts';

/** Who is calling: a signed-in user working in one organisation, or a `read` API key of one. */
export type Caller =
  | { kind: 'session'; userId: string; email: string; sessionId: string; tenantId: string; role: Role }
  | { kind: 'api_key'; keyId: string; tenantId: string; role: 'viewer' };

/** Hono's type parameters for every router: bindings plus per-request variables. */
export interface AppEnv {
  Bindings: Env;
  Variables: { requestId: string; database?: DatabaseHandle; caller?: Caller };
}
