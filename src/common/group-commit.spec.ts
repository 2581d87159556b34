import { afterEach, describe, expect, it, jest } from '@jest/globals';
import { GroupCommitter } from './group-commit.js';

/** A commit function whose commits the test finishes (or fails) by hand, in order. */
function controlledCommits() {
  const commits: { items: number[]; finish: () => void; fail: (e: Error) => void }[] = [];
  const events: string[] = [];
  const commitBatch = (items: number[]) =>
    new Promise<string[]>((resolve, reject) => {
      events.push(`commit ${items.join(',')}`);
      commits.push({
        items,
        finish: () => resolve(items.map((i) => `ok ${i}`)),
        fail: (e) => reject(e),
      });
    });
  return { commits, events, commitBatch };
}

const tick = () => new Promise<void>((r) => setImmediate(r));

describe('GroupCommitter', () => {
  it('batches what queues during a commit, one commit in flight, and answers only after the commit', async () => {
    const { commits, events, commitBatch } = controlledCommits();
    const committer = new GroupCommitter(commitBatch, (e) => e);
    const first = [1, 2].map((i) => committer.submit(i).then((r) => void events.push(r)));
    await tick();
    expect(commits.map((c) => c.items)).toEqual([[1, 2]]);
    const second = [3, 4, 5].map((i) => committer.submit(i).then((r) => void events.push(r)));
    await tick();
    expect(commits).toHaveLength(1); // 3-5 wait for the commit in flight
    expect(events).toEqual(['commit 1,2']);

    commits[0].finish();
    await Promise.all(first);
    // The queued batch went to the database before the first batch's callers were answered.
    expect(events).toEqual(['commit 1,2', 'commit 3,4,5', 'ok 1', 'ok 2']);
    commits[1].finish();
    await Promise.all(second);
    expect(events.slice(4)).toEqual(['ok 3', 'ok 4', 'ok 5']);
    await committer.close();
  });

  it('with parallel: n, starts up to n commits at once (decisions: their records need no chain lock)', async () => {
    const { commits, events, commitBatch } = controlledCommits();
    const committer = new GroupCommitter(commitBatch, (e) => e, { parallel: 2 });
    const answered = [1, 2].map((i) => committer.submit(i).then((r) => void events.push(r)));
    await tick();
    answered.push(committer.submit(3).then((r) => void events.push(r)));
    await tick();
    answered.push(...[4, 5].map((i) => committer.submit(i).then((r) => void events.push(r))));
    await tick();
    // 1,2 and 3 are in flight together; 4,5 wait for one of them.
    expect(events).toEqual(['commit 1,2', 'commit 3']);
    commits[1].finish(); // the second may finish first: its callers are answered at once
    await answered[2];
    expect(events).toEqual(['commit 1,2', 'commit 3', 'commit 4,5', 'ok 3']);
    commits[0].finish();
    commits[2].finish();
    await Promise.all(answered);
    expect(events.slice(4).sort()).toEqual(['ok 1', 'ok 2', 'ok 4', 'ok 5']);
    await committer.close();
  });

  it('lets callers answered by a commit join the next one when nothing else waits', async () => {
    const { commits, events, commitBatch } = controlledCommits();
    const committer = new GroupCommitter(commitBatch, (e) => e);
    // Each writer submits its next item as soon as its previous one is committed.
    const writer = async (id: number) => {
      await committer.submit(id);
      await committer.submit(id + 10);
    };
    const writers = [writer(1), writer(2), writer(3)];
    await tick();
    commits[0].finish();
    await tick();
    await tick();
    expect(events).toEqual(['commit 1,2,3', 'commit 11,12,13']);
    commits[1].finish();
    await Promise.all(writers);
    await committer.close();
  });

  it('rejects the callers of a failed commit only; the next batch still commits', async () => {
    const { commits, commitBatch } = controlledCommits();
    const committer = new GroupCommitter(commitBatch, (e) => new Error(`unavailable: ${e.message}`));
    const failing = committer.submit(1);
    await tick();
    const later = committer.submit(2);
    commits[0].fail(new Error('connection lost'));
    await expect(failing).rejects.toThrow('unavailable: connection lost');
    await tick();
    commits[1].finish();
    await expect(later).resolves.toBe('ok 2');
    await committer.close();
    await expect(committer.submit(3)).rejects.toThrow('unavailable: closed for shutdown');
  });

  describe('with a deadline (a silent database)', () => {
    afterEach(() => void jest.useRealTimers());

    it('fails callers at their deadline, drops what was not sent, and reports a late commit', async () => {
      jest.useFakeTimers({ doNotFake: ['setImmediate'] });
      const { commits, events, commitBatch } = controlledCommits();
      const late: number[] = [];
      const committer = new GroupCommitter(commitBatch, (e) => new Error(`unavailable: ${e.message}`), {
        deadlineMs: 1000,
        onLateCommit: (n) => late.push(n),
      });
      const inFlight = committer.submit(1);
      await tick();
      const queued = committer.submit(2);
      const settled = Promise.allSettled([inFlight, queued]);
      jest.advanceTimersByTime(1000);
      const [a, b] = await settled;
      expect([a.status, b.status]).toEqual(['rejected', 'rejected']);
      expect((a as PromiseRejectedResult).reason.message).toBe('unavailable: no commit within 1000 ms');

      commits[0].finish(); // the hung commit lands after all
      await tick();
      await tick();
      expect(late).toEqual([1]);
      expect(events).toEqual(['commit 1']); // item 2 was never sent
      await committer.close();
    });

    it('with admission, holds commits while it is not ready: those past their deadline are dropped unsent, the rest go when it is', async () => {
      jest.useFakeTimers({ doNotFake: ['setImmediate'] });
      const { commits, events, commitBatch } = controlledCommits();
      // A gate as the sealer's: ready or not, and a wake-up at each change.
      let ready = false;
      let wake: (() => void)[] = [];
      const admission = {
        ready: () => ready,
        changed: () => new Promise<void>((r) => wake.push(r)),
      };
      const set = (value: boolean) => {
        ready = value;
        const w = wake;
        wake = [];
        w.forEach((r) => r());
      };
      let held = 0;
      const committer = new GroupCommitter(commitBatch, (e) => new Error(`unavailable: ${e.message}`), {
        deadlineMs: 1000,
        admission,
        onAdmissionWait: () => held++,
      });
      const refused = committer.submit(1);
      const settled = Promise.allSettled([refused]);
      await tick();
      set(false); // a round measured the lag still past the threshold: it looks again, still waits
      await tick();
      expect(commits).toHaveLength(0);
      jest.advanceTimersByTime(1000);
      expect((await settled)[0]).toMatchObject({ status: 'rejected' });
      set(false);
      await tick();
      expect(events).toEqual([]); // item 1 was never sent

      const admitted = committer.submit(2);
      await tick();
      expect(commits).toHaveLength(0);
      set(true);
      await tick();
      await tick();
      expect(commits.map((c) => c.items)).toEqual([[2]]);
      commits[0].finish();
      await expect(admitted).resolves.toBe('ok 2');
      expect(held).toBe(2);
      await committer.close();
    });

    it('refuses at once when too many items already wait', async () => {
      const { commits, commitBatch } = controlledCommits();
      const committer = new GroupCommitter(commitBatch, (e) => new Error(`unavailable: ${e.message}`), {
        maxQueued: 1,
      });
      const first = committer.submit(1);
      await tick();
      const second = committer.submit(2); // waits behind the commit in flight
      await expect(committer.submit(3)).rejects.toThrow('unavailable: 1 items already wait for the database');
      commits[0].finish();
      await tick();
      commits[1].finish();
      await expect(Promise.all([first, second])).resolves.toEqual(['ok 1', 'ok 2']);
      await committer.close();
    });
  });
});
