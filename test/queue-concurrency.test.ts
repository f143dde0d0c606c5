// 32 concurrent claimers drain 2,000 builds: every build claimed exactly once, claims in FIFO
// order, and no deadlock (or any other) error on the way.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { BuildQueue } from '../queue/index.ts';
import { dialects } from './support/databases.ts';
import { openQueueFixture, type QueueFixture } from './support/queue-fixture.ts';

const builds = 2_000;
const workers = 32;
const digest = 'd'.repeat(64);

describe.each(dialects)('queue under concurrency on %s', (dialect) => {
  let fixture: QueueFixture;
  let queue: BuildQueue;

  beforeEach(async () => {
    fixture = await openQueueFixture(dialect, { poolSize: workers + 4 });
    ({ queue } = fixture);
  });

  afterEach(async () => {
    await fixture.close();
  });

  it(`${workers} workers drain ${builds} builds: each claimed once, FIFO, no errors`, async () => {
    const ids: number[] = [];
    for (let i = 0; i < builds; i++) ids.push((await queue.enqueue({ service: 'api', commit: 'abcdef1' })).id);

    const claims: { id: number; calledAt: number; returnedAt: number; worker: string }[] = [];
    const errors: unknown[] = [];
    await Promise.all(
      Array.from({ length: workers }, async (_, n) => {
        const worker = `w${n}`;
        for (;;) {
          try {
            const calledAt = performance.now();
            const claimed = await queue.claim(worker);
            if (!claimed) return;
            claims.push({ id: claimed.build.id, calledAt, returnedAt: performance.now(), worker });
            await queue.succeed(claimed.claim, { digest, size: 1 });
          } catch (err) {
            errors.push(err);
            if (errors.length > 10) return;
          }
        }
      }),
    );

    expect(errors).toEqual([]);
    expect(claims.map((c) => c.id).sort((a, b) => a - b)).toEqual(ids);
    expect(new Set(claims.map((c) => c.worker)).size).toBeGreaterThan(dialect === 'mysql' ? 1 : 0);
    expect(await queue.counts()).toEqual({ QUEUED: 0, RUNNING: 0, SUCCEEDED: builds, FAILED: 0 });

    // FIFO without a clock tolerance: a newer build's claim may overlap an older build's claim
    // (they race), but may never have returned before the older build's claim was even asked for.
    const byAge = [...claims].sort((a, b) => a.id - b.id);
    let latestCallForOlder = -Infinity;
    const overtaken = byAge.filter((claim) => {
      const early = claim.returnedAt < latestCallForOlder;
      latestCallForOlder = Math.max(latestCallForOlder, claim.calledAt);
      return early;
    });
    expect(overtaken.map((c) => c.id)).toEqual([]);
  });
});
