// The queue with real worker processes: kill -9 mid-build, paused (stale) workers, builds that
// run too long, and several processes draining one queue. Runs on MariaDB and on SQLite.
import { createHash } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Reaper, type BuildQueue } from '../queue/index.ts';
import type { Database } from '../entities/index.ts';
import { dialects, type TestDatabase } from './support/databases.ts';
import { openQueueFixture, type QueueFixture } from './support/queue-fixture.ts';
import { spawnTs, type JsonProcess } from './support/processes.ts';

const digestOf = (worker: string, build: number) => createHash('sha256').update(`${worker}:${build}`).digest('hex');

describe.each(dialects)('worker processes on %s', (dialect) => {
  let fixture: QueueFixture;
  let testDb: TestDatabase;
  let db: Database;
  let queue: BuildQueue;
  let reaper: Reaper | undefined;
  const workers: JsonProcess[] = [];

  const startWorker = (id: string, workMs: number, extra: Record<string, string> = {}) => {
    const worker = spawnTs('test/fixtures/queue-worker.ts', {
      ...testDb.env,
      WORKER_ID: id,
      WORK_MS: String(workMs),
      FLEETCAST_HEARTBEAT_INTERVAL: '200ms',
      ...extra,
    });
    workers.push(worker);
    return worker;
  };
  const startReaper = (options: { heartbeatTimeoutMs: number; buildTimeoutMs?: number }) => {
    reaper = new Reaper(db, { ...options, intervalMs: 200 });
    reaper.start();
  };
  const statusOf = async (id: number) => (await queue.get(id)).status;

  beforeEach(async () => {
    fixture = await openQueueFixture(dialect, { maxAttempts: 2 });
    ({ testDb, db, queue } = fixture);
  });

  afterEach(async () => {
    for (const worker of workers.splice(0)) {
      worker.kill('SIGKILL');
      await worker.exited;
    }
    await reaper?.stop();
    reaper = undefined;
    await fixture.close();
  });

  it('re-queues the build of a worker killed with -9, and another worker finishes it', async () => {
    const build = await queue.enqueue({ service: 'api', commit: 'abc1234' });
    const doomed = startWorker('doomed', 60_000);
    await doomed.waitFor((e) => e.event === 'start' && e.build === build.id);
    doomed.kill('SIGKILL');
    await doomed.exited;
    startReaper({ heartbeatTimeoutMs: 1_000 });

    await expect.poll(() => statusOf(build.id), { timeout: 10_000 }).toBe('QUEUED');
    const rescuer = startWorker('rescuer', 50);
    await rescuer.waitFor((e) => e.event === 'finish' && e.build === build.id);
    await expect.poll(() => statusOf(build.id), { timeout: 10_000 }).toBe('SUCCEEDED');
    expect(await queue.get(build.id)).toMatchObject({ attempts: 2, claimedBy: 'rescuer', digest: digestOf('rescuer', build.id) });
  });

  it('fails a build for good when its workers keep dying, with the reason', async () => {
    const build = await queue.enqueue({ service: 'api', commit: 'abc1234' });
    startReaper({ heartbeatTimeoutMs: 1_000 });
    for (const id of ['first', 'second']) {
      const worker = startWorker(id, 60_000);
      await worker.waitFor((e) => e.event === 'start' && e.build === build.id);
      worker.kill('SIGKILL');
      await worker.exited;
      if (id === 'first') await expect.poll(() => statusOf(build.id), { timeout: 10_000 }).toBe('QUEUED');
    }
    await expect.poll(() => statusOf(build.id), { timeout: 10_000 }).toBe('FAILED');
    expect((await queue.get(build.id)).failureReason).toMatch(/^worker lost \(heartbeat stale \d+ s\) after 2 attempts$/);
  });

  it('fails a build that runs past the time limit, and its worker stops working on it', async () => {
    const build = await queue.enqueue({ service: 'api', commit: 'abc1234' });
    const slow = startWorker('slow', 60_000);
    await slow.waitFor((e) => e.event === 'start' && e.build === build.id);
    startReaper({ heartbeatTimeoutMs: 10_000, buildTimeoutMs: 1_500 });
    await expect.poll(() => statusOf(build.id), { timeout: 10_000 }).toBe('FAILED');
    expect((await queue.get(build.id)).failureReason).toMatch(/^timed out after 1\.5 s/);
    const aborted = await slow.waitFor((e) => e.event === 'aborted' && e.build === build.id);
    expect(aborted.reason).toMatch(/no longer holds build/);
    expect((await queue.counts()).RUNNING).toBe(0);
  });

  it('a paused worker that resumes after losing its claim cannot overwrite the new owner', async () => {
    const build = await queue.enqueue({ service: 'api', commit: 'abc1234' });
    const paused = startWorker('paused', 2_000);
    await paused.waitFor((e) => e.event === 'start' && e.build === build.id);
    paused.kill('SIGSTOP');
    startReaper({ heartbeatTimeoutMs: 1_000 });
    await expect.poll(() => statusOf(build.id), { timeout: 10_000 }).toBe('QUEUED');

    const other = startWorker('other', 3_000);
    await other.waitFor((e) => e.event === 'start' && e.build === build.id);
    paused.kill('SIGCONT');
    // The resumed worker learns it lost the claim (at its heartbeat or at its late succeed).
    await expect
      .poll(() => paused.events.some((e) => e.event === 'aborted') || paused.stderr.some((l) => l.includes('claim lost')), { timeout: 10_000 })
      .toBe(true);
    expect(await queue.get(build.id)).toMatchObject({ status: 'RUNNING', claimedBy: 'other' });

    await expect.poll(() => statusOf(build.id), { timeout: 15_000 }).toBe('SUCCEEDED');
    expect(await queue.get(build.id)).toMatchObject({ claimedBy: 'other', digest: digestOf('other', build.id) });
  });

  it('several worker processes drain one queue, each build run exactly once', async () => {
    const ids: number[] = [];
    for (let i = 0; i < 120; i++) ids.push((await queue.enqueue({ service: 'api', commit: 'abc1234' })).id);
    const pool = ['p1', 'p2', 'p3', 'p4'].map((id) => startWorker(id, 5, { EXIT_WHEN_IDLE: '1' }));
    await Promise.all(pool.map((worker) => worker.waitFor((e) => e.event === 'exit', 60_000)));

    const starts = pool.flatMap((worker) => worker.events.filter((e) => e.event === 'start').map((e) => e.build as number));
    expect(starts.sort((a, b) => a - b)).toEqual(ids);
    const builds = await queue.list({ limit: 1000 });
    expect(builds.every((b) => b.status === 'SUCCEEDED' && b.attempts === 1 && b.digest === digestOf(b.claimedBy!, b.id))).toBe(true);
  });
});
