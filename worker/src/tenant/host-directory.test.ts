import { describe, expect, it } from 'vitest';
import type { Config } from '../env.ts';
import { HostDirectory, type HostLookup, LOOKUP_BURST, LOOKUPS_PER_SECOND, NEGATIVE_TTL_MS } from './host-directory.ts';

const TENANT = crypto.randomUUID();
const withDatabase = { DATABASE_URL: 'postgres://db.invalid/pulsewire' } as Config;
const nothingPushed = () => false;

/** A fake Postgres: the tenant's hosts, and every lookup it was asked. */
function fakeLookup(owned: string[]) {
  const calls: string[][] = [];
  let fail = false;
  const lookup: HostLookup = async (_config, tenantId, ids) => {
    calls.push(ids);
    if (fail) throw new Error('connection refused');
    return new Set(tenantId === TENANT ? ids.filter((id) => owned.includes(id)) : []);
  };
  return { lookup, calls, failNext: () => (fail = true) };
}

describe('HostDirectory', () => {
  it('asks Postgres about unknown UUIDs only, keeps the hosts it finds and asks again about the others', async () => {
    const [mine, stranger] = [crypto.randomUUID(), crypto.randomUUID()];
    const pushedId = crypto.randomUUID();
    const db = fakeLookup([mine]);
    const directory = new HostDirectory(() => withDatabase, db.lookup);

    const pushed = (id: string) => id === pushedId;
    expect(await directory.unknownAmong(TENANT, [pushedId, mine, stranger, 'web-1'], pushed)).toEqual([
      stranger,
      'web-1',
    ]);
    expect(db.calls).toEqual([[mine, stranger]]); // not the pushed host, not the non-UUID

    expect(await directory.unknownAmong(TENANT, [mine], nothingPushed)).toEqual([]);
    expect(await directory.unknownAmong(TENANT, [stranger], nothingPushed)).toEqual([stranger]);
    expect(db.calls).toEqual([[mine, stranger]]); // both answers kept: mine for good, stranger for a while
  });

  it('believes a negative answer for a while only, then asks again', async () => {
    let now = 1_000_000;
    const stranger = crypto.randomUUID();
    const db = fakeLookup([]);
    const directory = new HostDirectory(
      () => withDatabase,
      db.lookup,
      () => now,
    );
    for (let i = 0; i < 100; i++) {
      expect(await directory.unknownAmong(TENANT, [stranger], nothingPushed)).toEqual([stranger]);
    }
    expect(db.calls).toHaveLength(1);
    now += NEGATIVE_TTL_MS + 1;
    await directory.unknownAmong(TENANT, [stranger], nothingPushed);
    expect(db.calls).toHaveLength(2);
  });

  it('bounds lookups of ever new ids to a burst and a rate, accepting the rest unchecked', async () => {
    let now = 1_000_000;
    const db = fakeLookup([]);
    const directory = new HostDirectory(
      () => withDatabase,
      db.lookup,
      () => now,
    );
    const refused: string[][] = [];
    for (let i = 0; i < LOOKUP_BURST + 30; i++) {
      refused.push(await directory.unknownAmong(TENANT, [crypto.randomUUID()], nothingPushed));
    }
    expect(db.calls).toHaveLength(LOOKUP_BURST);
    expect(refused.filter((r) => r.length === 1)).toHaveLength(LOOKUP_BURST);
    now += 1000; // refills LOOKUPS_PER_SECOND
    for (let i = 0; i < 10; i++) await directory.unknownAmong(TENANT, [crypto.randomUUID()], nothingPushed);
    expect(db.calls).toHaveLength(LOOKUP_BURST + LOOKUPS_PER_SECOND);
  });

  it('asks once for a crowd subscribing to the same new host at the same time', async () => {
    const host = crypto.randomUUID();
    const db = fakeLookup([host]);
    const directory = new HostDirectory(() => withDatabase, db.lookup);
    const answers = await Promise.all(
      Array.from({ length: 50 }, () => directory.unknownAmong(TENANT, [host], nothingPushed)),
    );
    expect(answers.every((unknown) => unknown.length === 0)).toBe(true);
    expect(db.calls).toEqual([[host]]);
  });

  it('fails open without a database or when the lookup fails, but never takes a non-UUID for a host', async () => {
    const db = fakeLookup([]);
    const noDatabase = new HostDirectory(() => ({}) as Config, db.lookup);
    expect(await noDatabase.unknownAmong(TENANT, [crypto.randomUUID(), 'h1'], nothingPushed)).toEqual([]);
    expect(db.calls).toEqual([]);

    const down = new HostDirectory(() => withDatabase, db.lookup);
    db.failNext();
    expect(await down.unknownAmong(TENANT, [crypto.randomUUID(), 'h1'], nothingPushed)).toEqual(['h1']);
    expect(db.calls).toHaveLength(1);
  });
});
