/**
 * Runs the services Worker tests need, as their own Node process, and prints
 * `{"url","relayAddress","kind","resendUrl","slackUrl","webhookUrl"}` as one JSON line once ready:
 * the test database service, the fake Resend API, the fake Slack webhooks and the webhook receiver. Test runners whose module loader would rewrite Node packages
 * for another runtime (workerd's resolve conditions) start this instead of importing the
 * services. It stops when stdin closes or on SIGTERM, so it cannot outlive its parent.
 */
import { startFakeResend } from './fakes/resend.ts';
import { startFakeSlack } from './fakes/slack.ts';
import { startFakeWebhookReceiver } from './fakes/webhook-receiver.ts';
import { startTestDatabaseService } from './test-databases.ts';

const service = await startTestDatabaseService(
  process.env.DATABASE_URL ? { databaseUrl: process.env.DATABASE_URL } : {},
);
const resend = await startFakeResend();
const slack = await startFakeSlack();
const webhooks = await startFakeWebhookReceiver();
process.stdout.write(
  `${JSON.stringify({
    url: service.url,
    relayAddress: service.relayAddress,
    kind: service.kind,
    resendUrl: resend.url,
    slackUrl: slack.url,
    webhookUrl: webhooks.url,
  })}\n`,
);

let stopping = false;
async function stop(): Promise<void> {
  if (stopping) return;
  stopping = true;
  await resend.stop();
  await slack.stop();
  await webhooks.stop();
  await service.stop();
  process.exit(0);
}
process.stdin.on('end', () => void stop());
process.stdin.on('close', () => void stop());
process.stdin.resume();
process.on('SIGTERM', () => void stop());
process.on('SIGINT', () => void stop());
