import {
  AlertList,
  ApiKeyList,
  ChannelCreated,
  ChannelList,
  CreatedApiKey,
  HostList,
  InvitationList,
  MaintenanceWindow,
  MaintenanceWindowList,
  MemberList,
  MeResponse,
  Rule,
  RuleList,
  Silence,
  SilenceList,
} from '@pulsewire/protocol';
import { beforeAll, describe, expect, it } from 'vitest';
import { sample, TestAgent } from '../../test/agent.ts';
import { insertAlert } from '../../test/alerting.ts';
import { lastMailTo, signedUpClient, TestClient, uniqueEmail } from '../../test/client.ts';
import { isolatedEnv } from '../../test/support.ts';
import { createApp } from '../app.ts';
import type { Env } from '../env.ts';

/**
 * Every route of the real router, checked two ways: another organisation's ids are refused
 * (404, nothing changed, nothing leaked), and a viewer cannot change anything. The route list
 * comes from the app itself, so a new route fails these tests until it is classified below.
 */
const routes = [
  ...new Map(
    createApp()
      .routes.filter((r) => r.method !== 'ALL' && r.path.startsWith('/api/v1/'))
      .map((r) => [`${r.method} ${r.path}`, { method: r.method, path: r.path }]),
  ).values(),
];

/** Routes anyone may call (they authenticate by their body, or not at all). */
const PUBLIC = new Set([
  'GET /api/v1/health',
  'GET /api/v1/openapi.json',
  'GET /api/v1/dev/outbox',
  'POST /api/v1/dev/jobs/run',
  'POST /api/v1/auth/signup',
  'POST /api/v1/auth/login',
  'POST /api/v1/auth/logout',
  'POST /api/v1/auth/verify',
  'POST /api/v1/auth/password/forgot',
  'POST /api/v1/auth/password/reset',
  'POST /api/v1/invitations/accept',
  // Agents: authenticated by an ingest key / the host's signature (tested in agents.test.ts).
  'POST /api/v1/agents/enroll',
  'POST /api/v1/ingest',
  'GET /api/v1/agents/control',
]);
/** What a viewer may do: read the organisation's monitoring data, and manage their own account. */
const VIEWER_ALLOWED = new Set([
  'GET /api/v1/me',
  'GET /api/v1/members',
  'GET /api/v1/hosts',
  'GET /api/v1/hosts/sparklines',
  'GET /api/v1/hosts/:id',
  'GET /api/v1/hosts/:id/samples',
  'GET /api/v1/hosts/:id/series',
  'GET /api/v1/hosts/:id/series/export',
  'GET /api/v1/series/compare',
  'GET /api/v1/hosts/:id/events',
  // The live stream is read-only; without an Upgrade header it answers 426 (stream.test.ts covers access).
  'GET /api/v1/stream',
  'GET /api/v1/organizations',
  'POST /api/v1/organizations',
  'POST /api/v1/organizations/switch',
  'POST /api/v1/auth/logout-all',
  'POST /api/v1/auth/verify/resend',
  'POST /api/v1/auth/password/change',
  'POST /api/v1/auth/email/change',
  // With one's own id this is "leave"; removing others is admin-only (tested in organization.test.ts).
  'DELETE /api/v1/members/:id',
  // Alerting: members read rules, channels (hints only), alerts, silences and windows, and acknowledge alerts.
  'GET /api/v1/rules',
  'GET /api/v1/rules/metrics',
  'GET /api/v1/rules/:id',
  'GET /api/v1/channels',
  'GET /api/v1/channels/:id',
  'GET /api/v1/channels/:id/deliveries',
  'GET /api/v1/alerts',
  'GET /api/v1/alerts/:id',
  'POST /api/v1/alerts/:id/ack',
  'GET /api/v1/silences',
  'GET /api/v1/maintenance-windows',
  // Previewing a rule reads history only; saving it is admin-only.
  'POST /api/v1/rules/preview',
]);

/** Bodies that pass validation, so a refusal is about access and not about input. */
const SAMPLE_BODIES: Record<string, unknown> = {
  'PATCH /api/v1/members/:id': { role: 'admin' },
  'POST /api/v1/keys': { name: 'probe', scope: 'read' },
  'POST /api/v1/invitations': { email: 'probe@example.com', role: 'viewer' },
  'POST /api/v1/rules': { name: 'probe', condition: { kind: 'no_data' } },
  'POST /api/v1/rules/preview': { rule: { name: 'probe', condition: { kind: 'no_data' } } },
  'PATCH /api/v1/rules/:id': { name: 'probe', enabled: false },
  'POST /api/v1/channels': { name: 'probe', config: { type: 'webhook', url: 'https://probe.example.com/' } },
  'PATCH /api/v1/channels/:id': { name: 'probe', enabled: false },
  'POST /api/v1/silences': {
    matchers: [{ name: 'host', op: '=', value: 'probe' }],
    endsAt: new Date(Date.now() + 86_400_000).toISOString(),
    comment: 'probe',
  },
  'POST /api/v1/maintenance-windows': {
    name: 'probe',
    timeZone: 'UTC',
    days: ['sun'],
    start: '02:00',
    durationMinutes: 60,
  },
  'PATCH /api/v1/maintenance-windows/:id': { name: 'probe', enabled: false },
  'POST /api/v1/hosts/:id/replace-key': {},
};

interface Tenant {
  owner: TestClient;
  viewer: TestClient;
  me: MeResponse;
  viewerId: string;
  keyId: string;
  keySecret: string;
  invitationId: string;
  hostId: string;
  ruleId: string;
  channelId: string;
  alertId: string;
  silenceId: string;
  windowId: string;
}

async function tenantWithData(env: Env, label: string): Promise<Tenant> {
  const { client: owner } = await signedUpClient(env, label);
  const me = MeResponse.parse(await (await owner.get('/api/v1/me')).json());
  const viewerEmail = uniqueEmail(`${label}-viewer`);
  await owner.post('/api/v1/invitations', { email: viewerEmail, role: 'viewer' });
  const viewer = new TestClient(env);
  const { token } = await lastMailTo(env, viewerEmail);
  const accepted = MeResponse.parse(
    await (await viewer.post('/api/v1/invitations/accept', { token, password: 'viewer password 1' })).json(),
  );
  const created = CreatedApiKey.parse(await (await owner.post('/api/v1/keys', { name: 'k', scope: 'read' })).json());
  const invitation = (await (
    await owner.post('/api/v1/invitations', { email: uniqueEmail(), role: 'admin' })
  ).json()) as {
    id: string;
  };
  const ingest = CreatedApiKey.parse(
    await (await owner.post('/api/v1/keys', { name: 'agents', scope: 'ingest' })).json(),
  );
  const agent = await TestAgent.enroll(env, ingest.secret, crypto.randomUUID(), `${label}-host`);
  await agent.push(agent.batch([sample(Date.now())]));
  const rule = Rule.parse(
    await (await owner.post('/api/v1/rules', { name: `${label} rule`, condition: { kind: 'no_data' } })).json(),
  );
  const channel = ChannelCreated.parse(
    await (
      await owner.post('/api/v1/channels', {
        name: `${label} hook`,
        config: { type: 'webhook', url: 'https://hooks.example.com/a' },
      })
    ).json(),
  ).channel;
  const alertId = await insertAlert(env, {
    tenantId: me.organization.id,
    ruleId: rule.id,
    ruleName: rule.name,
    hostId: agent.hostId,
  });
  const silence = Silence.parse(
    await (
      await owner.post('/api/v1/silences', {
        matchers: [{ name: 'host', op: '=', value: agent.hostId }],
        endsAt: new Date(Date.now() + 3600_000).toISOString(),
        comment: `${label} maintenance`,
      })
    ).json(),
  );
  const window = MaintenanceWindow.parse(
    await (
      await owner.post('/api/v1/maintenance-windows', {
        name: `${label} window`,
        timeZone: 'UTC',
        days: ['sun'],
        start: '02:00',
        durationMinutes: 60,
      })
    ).json(),
  );
  return {
    owner,
    viewer,
    hostId: agent.hostId,
    me,
    viewerId: accepted.user.id,
    keyId: created.key.id,
    keySecret: created.secret,
    invitationId: invitation.id,
    ruleId: rule.id,
    channelId: channel.id,
    alertId,
    silenceId: silence.id,
    windowId: window.id,
  };
}

/** A's data as A sees it: what no call by another tenant or a viewer may change. */
async function snapshot(t: Tenant) {
  const members = MemberList.parse(await (await t.owner.get('/api/v1/members')).json());
  const keys = ApiKeyList.parse(await (await t.owner.get('/api/v1/keys')).json());
  const invitations = InvitationList.parse(await (await t.owner.get('/api/v1/invitations')).json());
  return {
    members: members.members.map((m) => `${m.userId}:${m.role}`).sort(),
    keys: keys.keys.map((k) => k.id).sort(),
    hosts: HostList.parse(await (await t.owner.get('/api/v1/hosts')).json())
      .hosts.map((h) => `${h.id}:${h.name}:${h.revokedAt}`)
      .sort(),
    invitations: invitations.invitations.map((i) => i.id).sort(),
    rules: RuleList.parse(await (await t.owner.get('/api/v1/rules')).json()).rules,
    channels: ChannelList.parse(await (await t.owner.get('/api/v1/channels')).json()).channels,
    alerts: AlertList.parse(await (await t.owner.get('/api/v1/alerts')).json()).alerts,
    silences: SilenceList.parse(await (await t.owner.get('/api/v1/silences')).json()).silences.map(
      ({ state: _changesWithTime, ...s }) => s,
    ),
    windows: MaintenanceWindowList.parse(await (await t.owner.get('/api/v1/maintenance-windows')).json()).windows,
  };
}

/** Query strings that pass validation, so a refusal is about access and not about input. */
const SAMPLE_QUERIES: Record<string, string> = {
  '/api/v1/hosts/:id/series': '?series=cpu.total',
  '/api/v1/hosts/:id/series/export': '?series=cpu.total',
};

function pathFor(path: string, id: string): string {
  return path.replace(/:id\b/, id) + (SAMPLE_QUERIES[path] ?? '');
}

describe('access matrix over every API route', () => {
  let env: Env;
  let a: Tenant;
  let b: Tenant;
  beforeAll(async () => {
    env = await isolatedEnv();
    a = await tenantWithData(env, 'tenant-a');
    b = await tenantWithData(env, 'tenant-b');
  });

  it("refuses another organisation's ids on every route that takes one", async () => {
    const idOfA: Record<string, string> = {
      '/api/v1/keys/:id': a.keyId,
      '/api/v1/members/:id': a.viewerId,
      '/api/v1/invitations/:id': a.invitationId,
      '/api/v1/hosts/:id': a.hostId,
      '/api/v1/hosts/:id/samples': a.hostId,
      '/api/v1/hosts/:id/series': a.hostId,
      '/api/v1/hosts/:id/series/export': a.hostId,
      '/api/v1/hosts/:id/events': a.hostId,
      '/api/v1/hosts/:id/revoke': a.hostId,
      '/api/v1/hosts/:id/replace-key': a.hostId,
      '/api/v1/rules/:id': a.ruleId,
      '/api/v1/channels/:id': a.channelId,
      '/api/v1/channels/:id/rotate-secret': a.channelId,
      '/api/v1/channels/:id/test': a.channelId,
      '/api/v1/channels/:id/deliveries': a.channelId,
      '/api/v1/alerts/:id': a.alertId,
      '/api/v1/alerts/:id/ack': a.alertId,
      '/api/v1/silences/:id': a.silenceId,
      '/api/v1/maintenance-windows/:id': a.windowId,
    };
    const before = await snapshot(a);
    const withIds = routes.filter((r) => r.path.includes(':id'));
    expect(withIds.length).toBeGreaterThan(0);
    for (const route of withIds) {
      const id = idOfA[route.path];
      if (!id) throw new Error(`no tenant-A fixture id for ${route.path}: add one to idOfA`);
      const key = `${route.method} ${route.path}`;
      const res = await b.owner.request(route.method, pathFor(route.path, id), SAMPLE_BODIES[key]);
      expect(res.status, key).toBe(404);
      const body = await res.text();
      expect(body, key).not.toContain(a.me.user.email);
    }
    expect(await snapshot(a)).toEqual(before);
  });

  it("never shows another organisation's data on list routes, by session or by read key", async () => {
    const leaks = [
      a.me.user.id,
      a.me.user.email,
      a.me.organization.id,
      a.keyId,
      a.invitationId,
      a.viewerId,
      a.hostId,
      a.ruleId,
      a.channelId,
      a.alertId,
      a.silenceId,
      a.windowId,
      'tenant-a', // names of A's rule, channel, silence and window
    ];
    const listRoutes = routes.filter((r) => r.method === 'GET' && !r.path.includes(':id'));
    for (const route of listRoutes) {
      if (route.path === '/api/v1/dev/outbox') continue; // local-mode mail log, not tenant data
      for (const [who, res] of [
        ['session', await b.owner.get(route.path)],
        ['read key', await b.owner.request('GET', route.path, undefined, { Authorization: `Bearer ${b.keySecret}` })],
      ] as const) {
        const body = await res.text();
        for (const secret of leaks) expect(body, `${who} ${route.path}`).not.toContain(secret);
      }
    }
    // A preview naming A's host draws nothing of it.
    const preview = await b.owner.post('/api/v1/rules/preview', {
      rule: { name: 'probe', scope: { type: 'hosts', hostIds: [a.hostId] }, condition: { kind: 'no_data' } },
    });
    expect(preview.status).toBe(200);
    const body = await preview.text();
    expect(JSON.parse(body)).toEqual({ hosts: [] });
    for (const secret of leaks) expect(body, 'rule preview').not.toContain(secret);
  });

  it('refuses every change to a viewer except their own account', async () => {
    const before = await snapshot(a);
    const guarded = routes.filter((r) => {
      const key = `${r.method} ${r.path}`;
      return !PUBLIC.has(key) && !VIEWER_ALLOWED.has(key);
    });
    expect(guarded.length).toBeGreaterThan(3);
    for (const route of guarded) {
      const key = `${route.method} ${route.path}`;
      const target = route.path.includes('members')
        ? a.me.user.id
        : route.path.includes('keys')
          ? a.keyId
          : a.invitationId;
      const res = await a.viewer.request(route.method, pathFor(route.path, target), SAMPLE_BODIES[key]);
      expect(res.status, key).toBe(403);
    }
    expect(await snapshot(a)).toEqual(before);
  });
});
