import type { Role } from '@pulsewire/protocol';
import type { DatabaseHandle } from '../db/client.ts';
import type { Env } from '../env.ts';

/** Who is calling: a signed-in user working in one organisation, or a `read` API key of one. */
export type Caller =
  | { kind: 'session'; userId: string; email: string; sessionId: string; tenantId: string; role: Role }
  | { kind: 'api_key'; keyId: string; tenantId: string; role: 'viewer' };

/** The `ingest` API key an agent enrolls with, checked before the body is read. */
export interface IngestKey {
  id: string;
  tenantId: string;
}

/** Hono's type parameters for every router: bindings plus per-request variables. */
export interface AppEnv {
  Bindings: Env;
  Variables: { requestId: string; database?: DatabaseHandle; caller?: Caller; ingestKey?: IngestKey };
}
