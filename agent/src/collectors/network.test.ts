import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import stats from './fixtures/si-network-stats.json' with { type: 'json' };
import { netFromCounters, netFromSi, parseNetDev } from './network.ts';

const read = (name: string) => readFileSync(path.join(import.meta.dirname, 'fixtures', name), 'utf8');

describe('network collector', () => {
  it('maps a recorded /proc/net/dev: every interface but loopback, totals since boot', () => {
    const before = parseNetDev(read('net-dev-1.txt'));
    const after = parseNetDev(read('net-dev-2.txt'));
    expect([...after.keys()]).toEqual(['ifb0', 'ifb1', 'eth0']);
    const eth0 = netFromCounters(after, before, 1000).find((n) => n.iface === 'eth0');
    expect(eth0).toEqual({
      iface: 'eth0',
      rxBytesPerSec: 0,
      txBytesPerSec: 0,
      rxPacketsPerSec: 0,
      txPacketsPerSec: 0,
      rxErrors: 0,
      txErrors: 0,
      rxTotal: 720_935_759,
      txTotal: 1_356_861,
    });
  });

  it('computes rates per second and survives a counter reset', () => {
    const header = 'Inter-|   Receive |  Transmit\n face |bytes packets|bytes\n';
    const before = parseNetDev(`${header}  eth0: 1000 10 0 0 0 0 0 0 5000 50 0 0 0 0 0 0\n`);
    const after = parseNetDev(
      `${header}  eth0: 3000 30 1 0 0 0 0 0 4000 60 2 0 0 0 0 0\n veth12: 1 1 0 0 0 0 0 0 1 1 0 0 0 0 0 0\n`,
    );
    const [eth0, ...others] = netFromCounters(after, before, 2000);
    expect(others).toEqual([]);
    expect(eth0).toMatchObject({
      rxBytesPerSec: 1000,
      rxPacketsPerSec: 10,
      txBytesPerSec: 0,
      txPacketsPerSec: 5,
      rxErrors: 1,
      txErrors: 2,
    });
  });

  it('maps systeminformation networkStats where /proc is missing', () => {
    expect(netFromSi(stats as never)).toEqual([
      expect.objectContaining({ iface: 'eth0', rxTotal: stats[0]?.rx_bytes, txTotal: stats[0]?.tx_bytes }),
    ]);
  });
});
