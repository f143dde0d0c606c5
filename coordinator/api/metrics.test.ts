import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Database } from '../../entities/index.ts';
import { dialects, freshDatabase } from '../../test/support/databases.ts';
import { BuildQueue } from '../../queue/index.ts';
import { ServiceRegistry } from '../../queue/services/index.ts';
import { BuildDurationFeed } from './metrics/build-duration-feed.ts';
import { startTestCoordinator, type TestCoordinator } from '../../test/support/coordinator.ts';

const commit = (n: number) => String(n).repeat(40).slice(0, 40);
const digest = 'e'.repeat(64);

/** The value of one sample line, e.g. `fleetcast_builds{status="QUEUED"}`. */
function sample(text: string, name: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(name + ' '));
  return line === undefined ? undefined : Number(line.slice(name.length + 1));
}

describe.each(dialects)('GET /metrics on %s', (dialect) => {
  let c: TestCoordinator;

  beforeEach(async () => {
    c = await startTestCoordinator(dialect);
    await c.handle.services.add({ name: 'api', repo: '/srv/git/api', buildCommand: 'make', artifactPath: 'out/api' });
  });

  afterEach(async () => {
    await c.stop();
  });

  const scrape = async () => {
    const res = await c.request('GET', '/metrics', { token: null });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    return res.text;
  };

  it('reports builds by status, queue depth and ages, and process metrics', async () => {
    const empty = await scrape();
    expect(sample(empty, 'fleetcast_database_up')).toBe(1);
    expect(sample(empty, 'fleetcast_queue_depth')).toBe(0);
    expect(sample(empty, 'fleetcast_queue_oldest_age_seconds')).toBe(0);
    expect(sample(empty, 'fleetcast_running_heartbeat_max_age_seconds')).toBe(0);
    expect(empty).toMatch(/^fleetcast_deployments\{status="ROLLING"\} 0$/m);
    expect(empty).toMatch(/^process_cpu_user_seconds_total /m);
    expect(empty).toMatch(/^nodejs_eventloop_lag_seconds /m);

    for (let i = 1; i <= 3; i++) await c.handle.queue.enqueue({ service: 'api', commit: commit(i) });
    await c.handle.queue.claim('w1');
    await new Promise((resolve) => setTimeout(resolve, 250));
    const text = await scrape();
    expect(sample(text, 'fleetcast_builds{status="QUEUED"}')).toBe(2);
    expect(sample(text, 'fleetcast_builds{status="RUNNING"}')).toBe(1);
    expect(sample(text, 'fleetcast_builds{status="SUCCEEDED"}')).toBe(0);
    expect(sample(text, 'fleetcast_queue_depth')).toBe(2);
    expect(sample(text, 'fleetcast_queue_oldest_age_seconds')).toBeGreaterThanOrEqual(0.2);
    expect(sample(text, 'fleetcast_queue_oldest_age_seconds')).toBeLessThan(30);
    expect(sample(text, 'fleetcast_running_heartbeat_max_age_seconds')).toBeGreaterThanOrEqual(0.2);
  });

  it('observes each finished build once in the duration histogram', async () => {
    await c.handle.queue.enqueue({ service: 'api', commit: commit(1) });
    await c.handle.queue.enqueue({ service: 'api', commit: commit(2) });
    const first = (await c.handle.queue.claim('w1'))!;
    await c.handle.queue.succeed(first.claim, { digest, size: 1 });
    expect(sample(await scrape(), 'fleetcast_build_duration_seconds_count{status="SUCCEEDED"}')).toBe(1);
    expect(sample(await scrape(), 'fleetcast_build_duration_seconds_count{status="SUCCEEDED"}')).toBe(1);

    const second = (await c.handle.queue.claim('w1'))!;
    await c.handle.queue.fail(second.claim, 'broken');
    const text = await scrape();
    expect(sample(text, 'fleetcast_build_duration_seconds_count{status="SUCCEEDED"}')).toBe(1);
    expect(sample(text, 'fleetcast_build_duration_seconds_count{status="FAILED"}')).toBe(1);
    expect(text).toMatch(/^fleetcast_build_duration_seconds_bucket\{le="900",status="FAILED"\} 1$/m);
  });

  it('says the database is down instead of failing the scrape', async () => {
    await c.handle.db.close();
    const text = await scrape();
    expect(sample(text, 'fleetcast_database_up')).toBe(0);
    expect(text).toMatch(/^process_cpu_user_seconds_total /m);
  });
});

describe.each(dialects)('BuildDurationFeed on %s', (dialect) => {
  it('reports builds finished after it started, once each, however long others stay queued', async () => {
    const testDb = await freshDatabase(dialect);
    const db = await Database.open({ url: testDb.url, sqlitePath: testDb.sqlitePath });
    try {
      const services = new ServiceRegistry(db);
      await services.add({ name: 'api', repo: '/srv/git/api', buildCommand: 'make', artifactPath: 'out/api' });
      const queue = new BuildQueue(db, services);
      const finish = async () => {
        const claimed = (await queue.claim('w1'))!;
        await queue.succeed(claimed.claim, { digest, size: 1 });
        return claimed.build.id;
      };
      await queue.enqueue({ service: 'api', commit: commit(1) });
      await finish(); // history before the start
      await queue.enqueue({ service: 'api', commit: commit(2) });
      const slow = (await queue.claim('w2'))!; // stays RUNNING: keeps the floor low
      await queue.enqueue({ service: 'api', commit: commit(3) });

      const feed = new BuildDurationFeed(db);
      await feed.start();
      expect(await feed.next()).toEqual([]);
      const third = await finish();
      expect((await feed.next()).map((b) => b.id)).toEqual([third]);
      expect(await feed.next()).toEqual([]);
      await queue.fail(slow.claim, 'broken');
      expect(await feed.next()).toMatchObject([{ id: slow.build.id, status: 'FAILED', durationSeconds: expect.any(Number) }]);
      expect(await feed.next()).toEqual([]);
    } finally {
      await db.close();
      await testDb.drop();
    }
  });
});
