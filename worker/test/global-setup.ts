import { spawn } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    testDatabasesUrl: string;
    pgRelay: string;
    fakeResendUrl: string;
    fakeSlackUrl: string;
    fakeWebhookUrl: string;
  }
}

const serviceScript = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../stack/src/test-services-cli.ts',
);

/**
 * Runs in Node before workerd starts: Postgres (PGlite, or DATABASE_URL), the relay, migrations,
 * the fake Resend API, and the fake Slack webhooks and webhook receiver.
 * The service runs as a child process because this file's imports are resolved with workerd's
 * conditions, which would load browser builds of Node-only packages.
 */
export default async function setup(project: TestProject) {
  const child = spawn(process.execPath, [serviceScript], { stdio: ['pipe', 'pipe', 'inherit'], env: process.env });
  const lines = createInterface({ input: child.stdout });
  const ready = await new Promise<{
    url: string;
    relayAddress: string;
    kind: string;
    resendUrl: string;
    slackUrl: string;
    webhookUrl: string;
  }>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`test database service exited early (code ${code})`)));
    lines.once('line', (line) => resolve(JSON.parse(line)));
  });
  console.log(`[worker tests] database: ${ready.kind === 'external' ? 'DATABASE_URL' : 'embedded PGlite'}`);
  project.provide('testDatabasesUrl', ready.url);
  project.provide('pgRelay', ready.relayAddress);
  project.provide('fakeResendUrl', ready.resendUrl);
  project.provide('fakeSlackUrl', ready.slackUrl);
  project.provide('fakeWebhookUrl', ready.webhookUrl);
  return async () => {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.stdin.end();
    await exited;
  };
}
