import { describe, expect, it } from 'vitest';
import { GroupCommit } from './group-commit.ts';

/** A commit the test ends by hand, recording the groups it was given. */
function manualCommits() {
  const groups: number[][] = [];
  const pending: { resolve: () => void; reject: (error: Error) => void }[] = [];
  const commit = (items: number[]) =>
    new Promise<string[]>((resolve, reject) => {
      groups.push(items);
      pending.push({ resolve: () => resolve(items.map((n) => `ok ${n}`)), reject });
    });
  return { groups, pending, commit };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('GroupCommit', () => {
  it('commits a lone item at once, and what queues meanwhile in the next commit', async () => {
    const { groups, pending, commit } = manualCommits();
    let idle = 0;
    const commits = new GroupCommit({ commit, maxItems: 10, onIdle: () => idle++ });
    const first = commits.submit(1);
    expect(groups).toEqual([[1]]);
    const rest = [commits.submit(2), commits.submit(3), commits.submit(4)];
    expect(commits.queued).toBe(3);
    pending[0]?.resolve();
    expect(await first).toBe('ok 1');
    await tick();
    expect(groups).toEqual([[1], [2, 3, 4]]);
    expect(idle).toBe(0);
    pending[1]?.resolve();
    expect(await Promise.all(rest)).toEqual(['ok 2', 'ok 3', 'ok 4']);
    await tick();
    expect(idle).toBe(1);
  });

  it('splits a long queue into commits of at most maxItems', async () => {
    const { groups, pending, commit } = manualCommits();
    const commits = new GroupCommit({ commit, maxItems: 2 });
    const answers = [1, 2, 3, 4, 5].map((n) => commits.submit(n));
    for (let i = 0; i < 3; i++) {
      await tick();
      pending[i]?.resolve();
    }
    expect(await Promise.all(answers)).toEqual(['ok 1', 'ok 2', 'ok 3', 'ok 4', 'ok 5']);
    expect(groups).toEqual([[1], [2, 3], [4, 5]]);
  });

  it('runs up to `concurrency` commits at once, then groups what queued into the next free one', async () => {
    const { groups, pending, commit } = manualCommits();
    let idle = 0;
    const commits = new GroupCommit({ commit, maxItems: 10, concurrency: 2, onIdle: () => idle++ });
    const answers = [1, 2, 3, 4, 5].map((n) => commits.submit(n));
    expect(groups).toEqual([[1], [2]]);
    expect(commits.queued).toBe(3);
    pending[1]?.resolve();
    await tick();
    expect(groups).toEqual([[1], [2], [3, 4, 5]]);
    pending[0]?.resolve();
    pending[2]?.resolve();
    expect(await Promise.all(answers)).toEqual(['ok 1', 'ok 2', 'ok 3', 'ok 4', 'ok 5']);
    await tick();
    expect(idle).toBe(1);
  });

  it("fails a failed commit's items only, and goes on with the next", async () => {
    const { pending, commit } = manualCommits();
    const commits = new GroupCommit({ commit, maxItems: 10 });
    const first = commits.submit(1);
    const second = commits.submit(2);
    pending[0]?.reject(new Error('connection lost'));
    await expect(first).rejects.toThrow('connection lost');
    await tick();
    pending[1]?.resolve();
    expect(await second).toBe('ok 2');
  });

  it('rejects every item of a commit that answers the wrong number of outcomes', async () => {
    const commits = new GroupCommit<number, string>({ commit: async () => [], maxItems: 10 });
    await expect(commits.submit(1)).rejects.toThrow('a commit of 1 items answered 0 outcomes');
  });
});
