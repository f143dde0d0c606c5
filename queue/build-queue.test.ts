import { describe, expect, it } from 'vitest';
import type { Database } from '../entities/index.ts';
import { isFleetcastError, type ErrorCode } from '../errors/index.ts';
import { dialects } from '../test/support/databases.ts';
import { useQueueFixture } from '../test/support/queue-fixture.ts';
import type { BuildQueue } from './build-queue.ts';
import { Reaper } from './reaper.ts';

const commitA = 'a'.repeat(40);
const digestA = 'a'.repeat(64);
const digestB = 'b'.repeat(64);

async function expectCode(promise: Promise<unknown>, code: ErrorCode): Promise<string> {
  const err = await promise.then(
    () => undefined,
    (error: unknown) => error,
  );
  expect(isFleetcastError(err), `expected a FleetcastError ${code}, got ${String(err)}`).toBe(true);
  expect((err as { code: string }).code).toBe(code);
  return (err as Error).message;
}

describe.each(dialects)('BuildQueue on %s', (dialect) => {
  let db: Database;
  let queue: BuildQueue;
  useQueueFixture(dialect, { maxAttempts: 2 }, (fixture) => ({ db, queue } = fixture));

  it('queues a build with the service artifact and claims it with a fresh token', async () => {
    const queued = await queue.enqueue({ service: 'api', commit: commitA.toUpperCase(), requestedBy: 'alice' });
    expect(queued).toMatchObject({ status: 'QUEUED', service: 'api', commit: commitA, artifact: 'out/api', attempts: 0, maxAttempts: 2 });
    expect(queued.requestedBy).toBe('alice');

    const first = await queue.claim('w1');
    expect(first?.build).toMatchObject({ id: queued.id, status: 'RUNNING', claimedBy: 'w1', attempts: 1 });
    expect(first?.claim.token).toMatch(/^[0-9a-f-]{36}$/);
    expect(first?.build.startedAt).toBeInstanceOf(Date);
    expect(await queue.claim('w2')).toBeNull();

    await queue.heartbeat(first!.claim);
    const done = await queue.succeed(first!.claim, { digest: digestA, size: 1234 });
    expect(done).toMatchObject({ status: 'SUCCEEDED', digest: digestA, size: 1234 });
    expect(done.finishedAt!.getTime()).toBeGreaterThanOrEqual(done.startedAt!.getTime());
  });

  it('hands out builds in FIFO order', async () => {
    const ids: number[] = [];
    for (let i = 0; i < 5; i++) ids.push((await queue.enqueue({ service: 'api', commit: commitA })).id);
    const claimed: number[] = [];
    for (let i = 0; i < 5; i++) claimed.push((await queue.claim('w1'))!.build.id);
    expect(claimed).toEqual(ids);
  });

  it('stores a build in the columns the migrations define', async () => {
    const queued = await queue.enqueue({ service: 'api', commit: commitA });
    const [row] = await db.query<{ service: string; commit_sha: string; status: string; max_attempts: number }>(
      'SELECT service, commit_sha, status, max_attempts FROM builds WHERE id = ?',
      [queued.id],
    );
    expect({ ...row, max_attempts: Number(row!.max_attempts) }).toEqual({ service: 'api', commit_sha: commitA, status: 'QUEUED', max_attempts: 2 });
  });

  it('keeps SUCCEEDED and FAILED final', async () => {
    await queue.enqueue({ service: 'api', commit: commitA });
    const { claim } = (await queue.claim('w1'))!;
    await queue.fail(claim, 'build command exited with code 2');
    await expectCode(queue.succeed(claim, { digest: digestA, size: 1 }), 'CLAIM_LOST');
    await expectCode(queue.heartbeat(claim), 'CLAIM_LOST');
    expect(await expectCode(queue.cancel(claim.id, 'bob'), 'FINAL_STATE')).toMatch(/already FAILED/);
    const build = await queue.get(claim.id);
    expect(build).toMatchObject({ status: 'FAILED', failureReason: 'build command exited with code 2', digest: null });
  });

  it('treats a repeated succeed or fail by the same claim as done, not as a lost claim', async () => {
    await queue.enqueue({ service: 'api', commit: commitA });
    const { claim } = (await queue.claim('w1'))!;
    await queue.succeed(claim, { digest: digestA, size: 10 });
    expect((await queue.succeed(claim, { digest: digestA, size: 10 })).status).toBe('SUCCEEDED');
    await expectCode(queue.succeed(claim, { digest: digestB, size: 10 }), 'CLAIM_LOST');
    await expectCode(queue.fail(claim, 'late'), 'CLAIM_LOST');
  });

  it('fences a stale worker: after the reaper takes its build back, its writes change nothing', async () => {
    await queue.enqueue({ service: 'api', commit: commitA });
    const stale = (await queue.claim('w-stale'))!;
    // A reaper with a tiny timeout sees the claim as stale at once.
    await new Promise((resolve) => setTimeout(resolve, 30));
    const reaped = await new Reaper(db, { heartbeatTimeoutMs: 10 }).reapOnce();
    expect(reaped.requeued).toEqual([stale.build.id]);

    const fresh = (await queue.claim('w-fresh'))!;
    expect(fresh.build).toMatchObject({ id: stale.build.id, attempts: 2, claimedBy: 'w-fresh' });

    const message = await expectCode(queue.heartbeat(stale.claim), 'CLAIM_LOST');
    expect(message).toMatch(/no longer holds build b\d+.*RUNNING again, claimed by w-fresh/);
    await expectCode(queue.succeed(stale.claim, { digest: digestA, size: 1 }), 'CLAIM_LOST');
    await expectCode(queue.fail(stale.claim, 'late failure'), 'CLAIM_LOST');
    await expectCode(queue.release(stale.claim), 'CLAIM_LOST');

    await queue.succeed(fresh.claim, { digest: digestB, size: 2 });
    await expectCode(queue.succeed(stale.claim, { digest: digestA, size: 1 }), 'CLAIM_LOST');
    expect(await queue.get(stale.build.id)).toMatchObject({ status: 'SUCCEEDED', digest: digestB, size: 2, claimedBy: 'w-fresh' });
  });

  it('cancels queued and running builds; the running worker learns it at its heartbeat', async () => {
    const queued = await queue.enqueue({ service: 'api', commit: commitA });
    await queue.enqueue({ service: 'api', commit: commitA });
    expect(await queue.cancel(`b${queued.id}`, 'alice')).toMatchObject({ status: 'FAILED', failureReason: 'cancelled by alice' });

    const running = (await queue.claim('w1'))!;
    expect(running.build.id).not.toBe(queued.id);
    await queue.cancel(running.build.id, 'bob');
    expect(await expectCode(queue.heartbeat(running.claim), 'CANCELLED')).toMatch(/cancelled by bob/);
    await expectCode(queue.succeed(running.claim, { digest: digestA, size: 1 }), 'CANCELLED');
    expect(await queue.claim('w1')).toBeNull();
  });

  it('releases a claim back to its place in the queue without counting the attempt', async () => {
    const first = await queue.enqueue({ service: 'api', commit: commitA });
    await queue.enqueue({ service: 'api', commit: commitA });
    const held = (await queue.claim('w1'))!;
    expect(await queue.release(held.claim)).toMatchObject({ status: 'QUEUED', attempts: 0, claimedBy: null });
    expect((await queue.claim('w2'))!.build).toMatchObject({ id: first.id, attempts: 1 });
  });

  it('submits a commit once while it is queued or running, again once it finished or when forced', async () => {
    const [a, b] = await Promise.all([
      queue.submit({ service: 'api', commit: commitA }),
      queue.submit({ service: 'api', commit: commitA }),
    ]);
    expect([a.created, b.created].sort()).toEqual([false, true]);
    expect(a.build.id).toBe(b.build.id);
    const forced = await queue.submit({ service: 'api', commit: commitA, force: true });
    expect(forced.created).toBe(true);

    const { claim: first } = (await queue.claim('w1'))!;
    expect((await queue.submit({ service: 'api', commit: commitA })).build.id).toBe(forced.build.id);
    await queue.succeed(first, { digest: digestA, size: 1 });
    const { claim: second } = (await queue.claim('w1'))!;
    expect((await queue.submit({ service: 'api', commit: commitA })).build.id).toBe(second.id);
    await queue.fail(second, 'x');
    const again = await queue.submit({ service: 'api', commit: commitA });
    expect(again.created).toBe(true);
    expect(again.build.id).toBeGreaterThan(forced.build.id);
  });

  it('rejects bad input with typed errors', async () => {
    expect(await expectCode(queue.enqueue({ service: 'api', commit: 'abc' }), 'INVALID_INPUT')).toMatch(/7 to 64 hexadecimal/);
    await expectCode(queue.enqueue({ service: 'api', commit: 'g'.repeat(40) }), 'INVALID_INPUT');
    await expectCode(queue.enqueue({ service: 'api', commit: 'a'.repeat(65) }), 'INVALID_INPUT');
    expect(await expectCode(queue.enqueue({ service: 'nope', commit: commitA }), 'NOT_FOUND')).toMatch(/unknown service "nope"/);
    await expectCode(queue.enqueue({ service: '../etc', commit: commitA }), 'INVALID_INPUT');
    expect(await expectCode(queue.get('b999999'), 'NOT_FOUND')).toMatch(/no build b999999/);
    await expectCode(queue.get('build-1'), 'INVALID_INPUT');
    await expectCode(queue.cancel('b0', 'x'), 'INVALID_INPUT');
    await expectCode(queue.claim(''), 'INVALID_INPUT');

    await queue.enqueue({ service: 'api', commit: commitA });
    const { claim } = (await queue.claim('w1'))!;
    await expectCode(queue.succeed(claim, { digest: 'not-a-digest', size: 1 }), 'INVALID_INPUT');
    await expectCode(queue.succeed(claim, { digest: digestA, size: -1 }), 'INVALID_INPUT');
    await expectCode(queue.heartbeat({ ...claim, token: 'forged' }), 'CLAIM_LOST');
    expect((await queue.get(claim.id)).status).toBe('RUNNING');
  });

  it('lists history newest first with filters and paging', async () => {
    const ids: number[] = [];
    for (let i = 0; i < 4; i++) ids.push((await queue.enqueue({ service: 'api', commit: commitA })).id);
    const { claim } = (await queue.claim('w1'))!;
    await queue.fail(claim, 'broken');
    expect((await queue.list()).map((b) => b.id)).toEqual([...ids].reverse());
    expect((await queue.list({ status: 'FAILED' })).map((b) => b.id)).toEqual([ids[0]]);
    expect((await queue.list({ limit: 2 })).map((b) => b.id)).toEqual([ids[3], ids[2]]);
    expect((await queue.list({ limit: 2, beforeId: ids[2] })).map((b) => b.id)).toEqual([ids[1], ids[0]]);
    expect(await queue.counts()).toEqual({ QUEUED: 3, RUNNING: 0, SUCCEEDED: 0, FAILED: 1 });
  });
});
