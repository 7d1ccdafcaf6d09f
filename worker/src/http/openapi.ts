import type { OpenAPIHono } from '@hono/zod-openapi';
import { HEADER_SIGNATURE } from '@pulsewire/protocol';
import type { AppEnv } from './app-env.ts';

/**
 * What the OpenAPI document says beyond each route's own declaration: how callers authenticate.
 * Schemas get their component names in protocol (`.meta({ id: 'Rule' })`, plain zod, which zod-openapi reads), so a generated
 * client (`openapi-typescript`) has `components["schemas"]["Rule"]`; http/openapi.node.test.ts runs one.
 */

export const SECURITY_SCHEMES = {
  session: {
    type: 'apiKey',
    in: 'cookie',
    name: '__Host-pw_session',
    description:
      'The session cookie set by signing in (`POST /auth/login`, or the e-mailed verification link). Over plain http (local only) it is named `pw_session`.',
  },
  readKey: {
    type: 'http',
    scheme: 'bearer',
    description: 'A `read` API key (`pw_live_…`): acts as a viewer, on GET routes only.',
  },
  ingestKey: {
    type: 'http',
    scheme: 'bearer',
    description: 'An `ingest` API key (`pw_live_…`): enrolls agents, nothing else.',
  },
  hostSignature: {
    type: 'apiKey',
    in: 'header',
    name: HEADER_SIGNATURE,
    description:
      'An enrolled host’s Ed25519 signature over the batch, with its `x-pulsewire-host`, `-timestamp` and `-batch` headers (see `POST /ingest`).',
  },
} as const;

type Requirement = Partial<Record<keyof typeof SECURITY_SCHEMES, string[]>>;
const anyone: Requirement[] = [];
const sessionOnly: Requirement[] = [{ session: [] }];
const sessionOrReadKey: Requirement[] = [{ session: [] }, { readKey: [] }];

/**
 * Routes that do not follow the rule of `requireCaller` (GET: session or read key; other methods:
 * session): public ones, the agents', and those that need a signed-in user rather than a caller.
 */
const EXCEPTIONS: Record<string, Requirement[]> = {
  'get /health': anyone,
  'get /dev/outbox': anyone,
  'post /auth/signup': anyone,
  'post /auth/login': anyone,
  'post /auth/logout': anyone,
  'post /auth/verify': anyone,
  'post /auth/password/forgot': anyone,
  'post /auth/password/reset': anyone,
  'post /invitations/accept': anyone,
  'get /organizations': sessionOnly,
  'post /agents/enroll': [{ ingestKey: [] }],
  'post /ingest': [{ hostSignature: [] }],
};

function securityFor(method: string, path: string): Requirement[] {
  return EXCEPTIONS[`${method} ${path}`] ?? (method === 'get' ? sessionOrReadKey : sessionOnly);
}

/** Declares the security schemes and gives every route without its own `security` the requirement above. Call after every router is mounted. */
export function documentApi(app: OpenAPIHono<AppEnv>): void {
  for (const [name, scheme] of Object.entries(SECURITY_SCHEMES)) {
    app.openAPIRegistry.registerComponent('securitySchemes', name, scheme);
  }
  for (const def of app.openAPIRegistry.definitions) {
    if (def.type === 'route') def.route.security ??= securityFor(def.route.method, def.route.path);
  }
}
