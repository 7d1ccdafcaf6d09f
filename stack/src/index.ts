export { ApiSession, verifyFromOutbox } from './api-session.ts';
export { type LocalDatabase, startLocalDatabase } from './database.ts';
export { type DevStack, startDevStack } from './dev-stack.ts';
export { type EmbeddedPostgres, startEmbeddedPostgres } from './embedded-postgres.ts';
export { type FakeSlack, type SlackReceived, startFakeSlack } from './fakes/slack.ts';
export {
  type FakeWebhookReceiver,
  startFakeWebhookReceiver,
  type WebhookAttempt,
  type WebhookDelivery,
} from './fakes/webhook-receiver.ts';
export { MIGRATIONS_FOLDER, migrateDatabase } from './migrate.ts';
export { findPgbouncer, type Pooler, startPooler } from './pooler.ts';
export { assertPortFree, freePort, PortInUseError } from './ports.ts';
export { type Relay, startRelay } from './relay.ts';
export {
  openSqlSession,
  reachable,
  type ScratchDatabase,
  type SqlSession,
  startPgliteScratch,
  startServerScratch,
} from './scratch-database.ts';
export * from './synthetic/index.ts';
export { startTestDatabaseService, type TestDatabaseService } from './test-databases.ts';
export { REPO_ROOT, runProcess, stopChild } from './worker-process.ts';
export { type CpuProfile, startWorkerProfile } from './worker-profile.ts';
