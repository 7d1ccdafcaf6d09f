import { OpenAPIHono } from '@hono/zod-openapi';
import { requestId } from 'hono/request-id';
import { agentControlRoutes } from './api/agent-control.ts';
import { agentRoutes } from './api/agents.ts';
import { alertRoutes } from './api/alerts.ts';
import { authRoutes } from './api/auth.ts';
import { channelRoutes } from './api/channels.ts';
import { devJobRoutes } from './api/dev-jobs.ts';
import { devOutboxRoutes } from './api/dev-outbox.ts';
import { docsRoutes } from './api/docs.ts';
import { healthRoutes } from './api/health.ts';
import { historyRoutes } from './api/history.ts';
import { hostRoutes } from './api/hosts.ts';
import { invitationRoutes } from './api/invitations.ts';
import { keyRoutes } from './api/keys.ts';
import { maintenanceWindowRoutes } from './api/maintenance-windows.ts';
import { memberRoutes } from './api/members.ts';
import { organizationRoutes } from './api/organizations.ts';
import { ruleRoutes } from './api/rules.ts';
import { silenceRoutes } from './api/silences.ts';
import { streamRoutes } from './api/stream.ts';
import { downloadRoutes } from './downloads.ts';
import type { AppEnv } from './http/app-env.ts';
import { csrfProtection } from './http/csrf.ts';
import { closeDatabase } from './http/database.ts';
import { handleError, notFoundHandler } from './http/error-handler.ts';
import { requestLogger } from './http/logger.ts';
import { documentApi } from './http/openapi.ts';
import { securityHeaders } from './http/security-headers.ts';
import { validationHook } from './http/validation.ts';
import { APP_VERSION } from './version.ts';

export const API_PREFIX = '/api/v1';

/** The API: one router per resource, mounted under /api/v1, errors rendered in one place. */
export function createApp() {
  const app = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
  app.use(requestId({ headerName: 'X-Request-Id' }));
  app.use(requestLogger);
  app.use(securityHeaders);

  const api = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
  api.use(closeDatabase);
  api.use(csrfProtection);
  api.route('/', healthRoutes);
  api.route('/', authRoutes);
  api.route('/', organizationRoutes);
  api.route('/', memberRoutes);
  api.route('/', invitationRoutes);
  api.route('/', keyRoutes);
  api.route('/', agentRoutes);
  api.route('/', agentControlRoutes);
  api.route('/', hostRoutes);
  api.route('/', historyRoutes);
  api.route('/', streamRoutes);
  api.route('/', ruleRoutes);
  api.route('/', channelRoutes);
  api.route('/', alertRoutes);
  api.route('/', silenceRoutes);
  api.route('/', maintenanceWindowRoutes);
  api.route('/', devOutboxRoutes);
  api.route('/', devJobRoutes);
  documentApi(api);
  api.doc31('/openapi.json', {
    openapi: '3.1.0',
    info: { title: 'Pulsewire API', version: APP_VERSION },
    servers: [{ url: API_PREFIX }],
  });

  app.route(API_PREFIX, api);
  app.route('/api/docs', docsRoutes(`${API_PREFIX}/openapi.json`));
  app.route('/downloads', downloadRoutes);
  app.onError(handleError);
  app.notFound(notFoundHandler(() => app.routes));
  return app;
}
