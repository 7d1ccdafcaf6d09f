import { cloudflareTest } from '@cloudflare/vitest-plugin';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  plugins: [
    cloudflareTest(({ inject }) => ({
      wrangler: { configPath: '../wrangler.toml' },
      miniflare: {
        bindings: {
          PULSEWIRE_MODE: 'local',
          PG_RELAY: inject('pgRelay'),
          TEST_DATABASES_URL: inject('testDatabasesUrl'),
          FAKE_RESEND_URL: inject('fakeResendUrl'),
          FAKE_SLACK_URL: inject('fakeSlackUrl'),
          FAKE_WEBHOOK_URL: inject('fakeWebhookUrl'),
        },
      },
    })),
  ],
  test: {
    name: 'worker',
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    exclude: ['src/**/*.node.test.ts', 'test/**/*.node.test.ts'],
    globalSetup: ['./test/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
