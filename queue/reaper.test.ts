import { describe, expect, it } from 'vitest';
import type { Database } from '../entities/index.ts';
import { dialects } from '../test/support/databases.ts';
import { useQueueFixture } from '../test/support/queue-fixture.ts';
import type { BuildQueue } from './build-queue.ts';
import { Reaper } from './reaper.ts';
import { sleep } from '../lifecycle/index.ts';

const commit = 'c0ffee1';

describe.each(dialects)('Reaper on %s', (dialect) => {
  let db: Database;
  let queue: BuildQueue;
  useQueueFixture(dialect, { maxAttempts: 2 }, (fixture) => ({ db, queue } = fixture));

  it('re-queues a build whose worker stopped heartbeating, then fails it after max attempts', async () => {
    const build = await queue.enqueue({ service: 'api', commit });
    const reaper = new Reaper(db, { heartbeatTimeoutMs: 1_000 });

    await queue.claim('w1');
    expect(await reaper.reapOnce()).toEqual({ requeued: [], failed: [], timedOut: [] });
    await sleep(1_200);
    expect((await reaper.reapOnce()).requeued).toEqual([build.id]);
    expect(await queue.get(build.id)).toMatchObject({ status: 'QUEUED', attempts: 1, claimedBy: null });

    await queue.claim('w2');
    await sleep(1_200);
    expect((await reaper.reapOnce()).failed).toEqual([build.id]);
    const failed = await queue.get(build.id);
    expect(failed.status).toBe('FAILED');
    expect(failed.failureReason).toMatch(/^worker lost \(heartbeat stale [12] s\) after 2 attempts$/);
    expect(failed.finishedAt).toBeInstanceOf(Date);
  });

  it('leaves claims with fresh heartbeats alone', async () => {
    const build = await queue.enqueue({ service: 'api', commit });
    const { claim } = (await queue.claim('w1'))!;
    const reaper = new Reaper(db, { heartbeatTimeoutMs: 1_000 });
    for (let i = 0; i < 3; i++) {
      await sleep(500);
      await queue.heartbeat(claim);
      await reaper.reapOnce();
    }
    expect(await queue.get(build.id)).toMatchObject({ status: 'RUNNING', claimedBy: 'w1' });
  });

  it('fails builds running past the build time limit even while they heartbeat', async () => {
    const build = await queue.enqueue({ service: 'api', commit });
    const { claim } = (await queue.claim('w1'))!;
    await sleep(300);
    await queue.heartbeat(claim);
    const result = await new Reaper(db, { heartbeatTimeoutMs: 60_000, buildTimeoutMs: 200 }).reapOnce();
    expect(result.timedOut).toEqual([build.id]);
    expect((await queue.get(build.id)).failureReason).toBe('timed out after 200 ms (attempt 1 of 2)');
    await expect(queue.heartbeat(claim)).rejects.toMatchObject({ code: 'CLAIM_LOST' });
  });

  it('acts once per claim when several reapers sweep at the same time', async () => {
    for (let i = 0; i < 40; i++) await queue.enqueue({ service: 'api', commit });
    for (let i = 0; i < 40; i++) await queue.claim(`w${i}`);
    await sleep(1_100);
    const reapers = Array.from({ length: 4 }, () => new Reaper(db, { heartbeatTimeoutMs: 1_000 }));
    const results = await Promise.all(reapers.map((reaper) => reaper.reapOnce()));
    const requeued = results.flatMap((result) => result.requeued);
    expect(requeued).toHaveLength(40);
    expect(new Set(requeued).size).toBe(40);
    expect(await queue.counts()).toMatchObject({ QUEUED: 40, RUNNING: 0 });
  });

  it('keeps sweeping on its interval once started, and stops cleanly', async () => {
    const build = await queue.enqueue({ service: 'api', commit });
    await queue.claim('w1');
    const reaper = new Reaper(db, { heartbeatTimeoutMs: 300, intervalMs: 100 });
    reaper.start();
    try {
      await expect.poll(async () => (await queue.get(build.id)).status, { timeout: 5_000 }).toBe('QUEUED');
    } finally {
      await reaper.stop();
    }
  });
});
