import { HostDetail, HostList } from '@pulsewire/protocol';
import { beforeAll, describe, expect, it } from 'vitest';
import { ownerWithIngestKey, sample, TestAgent } from '../../test/agent.ts';
import type { TestClient } from '../../test/client.ts';
import { isolatedEnv } from '../../test/support.ts';
import type { Env } from '../env.ts';

describe('hosts API', () => {
  let env: Env;
  let owner: TestClient;
  let agent: TestAgent;
  beforeAll(async () => {
    env = await isolatedEnv();
    const setup = await ownerWithIngestKey(env);
    owner = setup.owner;
    agent = await TestAgent.enroll(env, setup.ingestKey, crypto.randomUUID(), 'db-1');
  });

  it('lists an enrolled host that has not pushed yet as offline, without figures', async () => {
    const { hosts } = HostList.parse(await (await owner.get('/api/v1/hosts')).json());
    expect(hosts).toHaveLength(1);
    expect(hosts[0]).toMatchObject({
      id: agent.hostId,
      name: 'db-1',
      status: 'offline',
      glance: null,
      os: 'Debian GNU/Linux 12',
    });
  });

  it('shows the host online with the latest figures once it pushes', async () => {
    const now = Date.now();
    const latest = {
      ...sample(now - 1000, 42),
      disks: [
        { mount: '/', fs: '/dev/vda1', type: 'ext4', size: 100e9, used: 30e9, usedPct: 30 },
        { mount: '/data', fs: '/dev/vdb1', type: 'xfs', size: 500e9, used: 400e9, usedPct: 80 },
      ],
    };
    await agent.push(agent.batch([sample(now - 11_000, 10), latest]));
    const { hosts } = HostList.parse(await (await owner.get('/api/v1/hosts')).json());
    expect(hosts[0]?.status).toBe('online');
    expect(hosts[0]?.glance).toMatchObject({ ts: now - 1000, cpuPct: 42, diskPct: 80 });
    expect(hosts[0]?.glance?.memPct).toBeCloseTo(25, 5);

    const detail = HostDetail.parse(await (await owner.get(`/api/v1/hosts/${agent.hostId}`)).json());
    expect(detail.latest?.ts).toBe(now - 1000);
    expect(detail.latest?.disks?.map((d) => d.mount)).toEqual(['/', '/data']);
    expect(detail.facts.cpuModel).toBe('AMD EPYC 7763');
    expect(detail.labels).toEqual({ env: 'test' });
  });

  it('answers 404 for an unknown or malformed host id', async () => {
    expect((await owner.get(`/api/v1/hosts/${crypto.randomUUID()}`)).status).toBe(404);
    expect((await owner.get('/api/v1/hosts/not-a-uuid')).status).toBe(404);
  });
});
