// MariaDB failover: a primary and a semi-synchronous replica of the test's own. Builds are
// queued and a deployment recorded through the coordinator's API, real builder worker processes
// drain the queue, the primary is killed with -9 and the replica promoted as an operator would.
// No acknowledged build or deployment is lost, every build runs exactly once, and the
// coordinator and the workers carry on against the new primary without a restart (they are
// given both hosts in FLEETCAST_DATABASE_URL). Rollback with no database at all is
// test/deploys-database-down.test.ts.
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Database } from '../entities/index.ts';
import { sleep } from '../lifecycle/index.ts';
import { serviceBody, startTestCoordinator, type TestCoordinator } from './support/coordinator.ts';
import { deployableBuild } from './support/deployable-build.ts';
import { MariaDbReplicaPair } from './support/mariadb-replication.ts';
import { TestNatsCluster } from './support/nats-cluster.ts';
import { spawnTs, type JsonProcess } from './support/processes.ts';

const regions = ['eu', 'us'];
const queued = 24;
let cluster: TestNatsCluster;
let pair: MariaDbReplicaPair;
let coordinator: TestCoordinator;
/** Commits made before the replica was linked (the database, the users) were not semi-sync. */
let unacknowledgedAtStart: number;
const workers: JsonProcess[] = [];

beforeAll(async () => {
  cluster = await TestNatsCluster.start(regions);
  pair = await MariaDbReplicaPair.start();
  unacknowledgedAtStart = (await pair.semiSyncCounts()).noTx;
  coordinator = await startTestCoordinator('mysql', {
    env: {
      FLEETCAST_DATABASE_URL: pair.url,
      FLEETCAST_NATS_URL: cluster.urls.hub,
      FLEETCAST_REGIONS: regions.join(','),
      FLEETCAST_REPLICATION_CONCURRENCY: '0',
      FLEETCAST_DEPLOY_WAVES: 'all',
    },
  });
}, 180_000);

afterAll(async () => {
  for (const worker of workers.splice(0)) {
    worker.kill('SIGKILL');
    await worker.exited;
  }
  await coordinator?.stop();
  await pair?.destroy();
  await cluster?.stop();
}, 60_000);

it('loses no acknowledged build or deployment when the primary dies and the replica is promoted; builds run once', async () => {
  expect((await coordinator.request('POST', '/v1/services', { body: serviceBody('api') })).status).toBe(201);
  const deployable = await deployableBuild(coordinator.handle, 'api', regions);
  const deploy = await coordinator.request('POST', '/v1/deployments', { body: { build: `b${deployable.id}` } });
  expect(deploy.status, deploy.text).toBe(201);
  const deploymentId = deploy.json.id;

  const acknowledged: number[] = [];
  for (let i = 0; i < queued; i++) {
    const commit = createHash('sha1').update(`commit ${i}`).digest('hex');
    const response = await coordinator.request('POST', '/v1/builds', { body: { service: 'api', commit } });
    expect(response.status, response.text).toBe(201);
    acknowledged.push(Number(String(response.json.id).replace(/^b/, '')));
  }
  for (const id of ['w1', 'w2']) {
    workers.push(spawnTs('test/fixtures/queue-worker.ts', { FLEETCAST_DATABASE_URL: pair.url, WORKER_ID: id, WORK_MS: '300', FLEETCAST_HEARTBEAT_INTERVAL: '200ms' }));
  }
  // The outage lands mid-queue: some builds done, some running, some still QUEUED.
  await expect.poll(async () => (await coordinator.handle.queue.counts()).SUCCEEDED, { timeout: 30_000, interval: 100 }).toBeGreaterThanOrEqual(4);
  const semiSync = await pair.semiSyncCounts();
  // Every commit since the link waited for the replica's acknowledgement; none fell back to async.
  expect(semiSync).toMatchObject({ clients: 1, noTx: unacknowledgedAtStart });
  expect(semiSync.yesTx).toBeGreaterThan(queued);

  await pair.primary.kill9();
  // The replica is up but read_only: it is not taken as the primary, so nothing is served from it.
  for (let i = 0; i < 3; i++) {
    const down = await coordinator.request('GET', '/v1/deployments?service=api');
    expect(down.status, down.text).toBe(503);
    expect(down.text).toContain('DATABASE_UNAVAILABLE');
    await sleep(300);
  }
  await pair.promoteReplica();

  // The coordinator serves again, from the promoted replica, without a restart.
  await expect.poll(async () => (await coordinator.request('GET', `/v1/deployments?service=api`)).status, { timeout: 30_000, interval: 250 }).toBe(200);
  const deployments = (await coordinator.request('GET', '/v1/deployments?service=api')).json.deployments;
  expect(deployments.map((d: { id: unknown }) => d.id)).toContain(deploymentId);
  const after = await coordinator.request('POST', '/v1/builds', { body: { service: 'api', commit: 'f'.repeat(40) } });
  expect(after.status, after.text).toBe(201);
  acknowledged.push(Number(String(after.json.id).replace(/^b/, '')));

  const queue = coordinator.handle.queue;
  await expect.poll(async () => (await queue.counts()).SUCCEEDED, { timeout: 60_000, interval: 250 }).toBe(queued + 2);
  expect(await queue.counts()).toMatchObject({ QUEUED: 0, RUNNING: 0, FAILED: 0 });

  // Straight from the promoted server: every acknowledged row is there.
  const promoted = await Database.open({ url: `mysql://root@127.0.0.1:${pair.replica.port}/fleetcast`, migrate: false });
  try {
    const builds = await promoted.query<{ id: number; status: string; attempts: number }>(`SELECT id, status, attempts FROM builds WHERE service = 'api' ORDER BY id`);
    expect(builds.map((b) => Number(b.id))).toEqual([deployable.id, ...acknowledged]);
    expect(builds.every((b) => b.status === 'SUCCEEDED' && Number(b.attempts) === 1)).toBe(true);
    const [deployment] = await promoted.query<{ id: number }>(`SELECT id FROM deployments WHERE id = ?`, [Number(String(deploymentId).replace(/^d/, ''))]);
    expect(deployment).toBeDefined();
  } finally {
    await promoted.close();
  }
  // Exactly once: each queued build started and finished in one worker, once.
  const events = workers.flatMap((worker) => worker.events);
  for (const kind of ['start', 'finish']) {
    const ids = events.filter((e) => e.event === kind).map((e) => e.build as number);
    expect(ids.sort((a, b) => a - b), kind).toEqual([...acknowledged].sort((a, b) => a - b));
  }
  // The workers found the new primary too: they finished builds after the kill.
  expect(workers.flatMap((worker) => worker.stderr).some((line) => line.includes('database failed over to a new primary'))).toBe(true);
}, 180_000);
