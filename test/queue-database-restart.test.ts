// The database dies (kill -9) and comes back while workers drain the queue: workers wait it out
// with backoff, no build is lost or failed because of it, and none runs twice at once.
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { sleep } from '../lifecycle/index.ts';
import { BuildQueue, QueueWorker, Reaper } from '../queue/index.ts';
import { ServiceRegistry } from '../queue/services/index.ts';
import { Database } from '../entities/index.ts';
import { PrivateMariaDb } from './support/private-mariadb.ts';

let server: PrivateMariaDb;
let db: Database;

beforeEach(async () => {
  server = await PrivateMariaDb.start();
  db = await Database.open({ url: server.url, poolSize: 8 });
});

afterEach(async () => {
  await db.close();
  await server.destroy();
});

it('workers carry on after a MariaDB kill -9 and restart; every build ends SUCCEEDED', async () => {
  const services = new ServiceRegistry(db);
  await services.add({ name: 'api', repo: '/srv/git/api', buildCommand: 'make', artifactPath: 'api' });
  const queue = new BuildQueue(db, services, { maxAttempts: 5 });
  const total = 150;
  for (let i = 0; i < total; i++) await queue.enqueue({ service: 'api', commit: 'abcdef1' });

  const logLines: string[] = [];
  const logger = pino(new Writable({ write: (chunk, _encoding, done) => (logLines.push(String(chunk)), done()) }));
  const active = new Set<number>();
  const overlaps: number[] = [];
  const workers = Array.from(
    { length: 4 },
    (_, n) =>
      new QueueWorker(
        queue.asWorkSource(),
        async (build) => {
          if (active.has(build.id)) overlaps.push(build.id);
          active.add(build.id);
          await sleep(20);
          active.delete(build.id);
          return { digest: 'e'.repeat(64), size: build.id };
        },
        { workerId: `w${n}`, heartbeatIntervalMs: 200, pollIntervalMs: 20, logger },
      ),
  );
  // A claim whose reply was lost with the connection is held by nobody: the reaper returns it.
  const reaper = new Reaper(db, { heartbeatTimeoutMs: 2_000, intervalMs: 250 });
  for (const worker of workers) worker.start();
  reaper.start();
  let doneBeforeOutage = 0;
  try {
    await expect.poll(async () => (await queue.counts()).SUCCEEDED, { timeout: 20_000 }).toBeGreaterThan(20);
    doneBeforeOutage = (await queue.counts()).SUCCEEDED;
    await server.kill9();
    await sleep(1_500);
    await server.startServer();

    await expect.poll(async () => (await queue.counts()).SUCCEEDED, { timeout: 60_000, interval: 250 }).toBe(total);
  } finally {
    await Promise.all(workers.map((worker) => worker.stop()));
    await reaper.stop();
  }
  expect(doneBeforeOutage).toBeLessThan(total);
  expect(logLines.some((line) => line.includes('database unavailable, retrying'))).toBe(true);
  expect(overlaps).toEqual([]);
  expect(await queue.counts()).toEqual({ QUEUED: 0, RUNNING: 0, SUCCEEDED: total, FAILED: 0 });
});

it('a worker stopping while the database is down gives up recording after its grace; the reaper re-runs the build', async () => {
  const services = new ServiceRegistry(db);
  await services.add({ name: 'api', repo: '/srv/git/api', buildCommand: 'make', artifactPath: 'api' });
  const queue = new BuildQueue(db, services);
  const build = await queue.enqueue({ service: 'api', commit: 'abcdef1' });
  let started!: () => void;
  const running = new Promise<void>((resolve) => (started = resolve));
  let finish!: () => void;
  const finishing = new Promise<void>((resolve) => (finish = resolve));
  const worker = new QueueWorker(
    queue.asWorkSource(),
    async () => {
      started();
      await finishing;
      return { digest: 'f'.repeat(64), size: 1 };
    },
    { workerId: 'stuck', heartbeatIntervalMs: 200, pollIntervalMs: 20 },
  );
  worker.start();
  await running;
  await server.kill9();
  finish();
  // Resolves although the outcome cannot be written: the test's own timeout is the bound.
  await worker.stop({ outcomeGraceMs: 300 });

  await server.startServer();
  const reaper = new Reaper(db, { heartbeatTimeoutMs: 500 });
  await expect.poll(async () => (await reaper.reapOnce()).requeued, { timeout: 30_000, interval: 300 }).toEqual([build.id]);
  expect(await queue.get(build.id)).toMatchObject({ status: 'QUEUED', attempts: 1 });
});
