// Goal documents run what a build was built with: a deploy of a build that recorded its run
// command and health check (from fleetcast.yml or the service at build time) carries those, a
// rollback carries the older build's own, and a build from before anything was recorded runs the
// service's current settings. Real coordinator (MariaDB, a NATS hub and a regional leaf).
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { BuildUsed } from '../queue/index.ts';
import { serviceBody, startTestCoordinator, type TestCoordinator } from './support/coordinator.ts';
import { deployableBuild } from './support/deployable-build.ts';
import { TestNatsCluster } from './support/nats-cluster.ts';

const regions = ['eu'];
let cluster: TestNatsCluster;
let coordinator: TestCoordinator;

beforeAll(async () => {
  cluster = await TestNatsCluster.start(regions);
  coordinator = await startTestCoordinator('mysql', {
    env: { FLEETCAST_NATS_URL: cluster.urls.hub, FLEETCAST_REGIONS: regions.join(','), FLEETCAST_REPLICATION_CONCURRENCY: '0', FLEETCAST_AUDIT_EVERY: '7d', FLEETCAST_DEPLOY_WAVES: 'all' },
  });
  expect((await coordinator.request('POST', '/v1/services', { body: serviceBody('api', { runCommand: './service-run', healthUrl: 'http://127.0.0.1:7000/service' }) })).status).toBe(201);
}, 120_000);

afterAll(async () => {
  await coordinator?.stop();
  await cluster?.stop();
});

/** A SUCCEEDED, replicated build that recorded `used`. */
async function builtWith(used: Omit<BuildUsed, 'config' | 'buildCommand'>): Promise<string> {
  const { queue, db } = coordinator.handle;
  const { build } = await queue.submit({ service: 'api', commit: randomBytes(20).toString('hex') });
  const claimed = (await queue.claim('test-builder'))!;
  expect(claimed.build.id).toBe(build.id);
  await queue.succeed(claimed.claim, { digest: randomBytes(32).toString('hex'), size: 10, used: { buildCommand: 'make', config: { source: 'fleetcast.yml' }, ...used } });
  await db.execute(
    `INSERT INTO replications (build_id, region, object_name, digest, size, status, created_at, finished_at, audited_at, max_attempts)
     SELECT id, 'eu', CONCAT('artifacts/api/b', id), digest, size, 'DONE', UTC_TIMESTAMP(3), UTC_TIMESTAMP(3), UTC_TIMESTAMP(3), 5 FROM builds WHERE id = ?`,
    [build.id],
  );
  return `b${build.id}`;
}

const euGoal = async () => (await coordinator.handle.deploys.status('api')).regions[0]!.goal;

it('a deploy runs the build’s recorded command; a rollback runs the older build’s own', async () => {
  const v1 = await builtWith({ artifact: 'dist/v1.bin', runCommand: './v1 --old-flag', healthUrl: 'http://127.0.0.1:7000/v1' });
  const v2 = await builtWith({ artifact: 'dist/v2.bin', runCommand: './v2 --new-flag', healthUrl: null });
  expect((await coordinator.request('POST', '/v1/deployments', { body: { build: v1 } })).status).toBe(201);
  expect(await euGoal()).toMatchObject({ build: v1, runCommand: './v1 --old-flag', healthUrl: 'http://127.0.0.1:7000/v1', fileName: 'v1.bin' });
  expect((await coordinator.request('POST', '/v1/deployments', { body: { build: v2 } })).status).toBe(201);
  expect(await euGoal()).toMatchObject({ build: v2, runCommand: './v2 --new-flag', healthUrl: null, fileName: 'v2.bin' });

  const rolledBack = await coordinator.request('POST', '/v1/services/api/rollback', { body: { to: v1 } });
  expect(rolledBack.status, rolledBack.text).toBe(201);
  expect(await euGoal()).toMatchObject({ build: v1, kind: 'rollback', runCommand: './v1 --old-flag', healthUrl: 'http://127.0.0.1:7000/v1' });
  expect((await coordinator.request('DELETE', '/v1/services/api/lock')).status).toBe(200);
});

it('a build that recorded nothing runs the service’s current settings', async () => {
  const legacy = await deployableBuild(coordinator.handle, 'api', regions);
  expect(legacy.used).toBeNull();
  expect((await coordinator.request('PATCH', '/v1/services/api', { body: { runCommand: './service-run --updated' } })).status).toBe(200);
  expect((await coordinator.request('POST', '/v1/deployments', { body: { build: `b${legacy.id}` } })).status).toBe(201);
  expect(await euGoal()).toMatchObject({ build: `b${legacy.id}`, runCommand: './service-run --updated', healthUrl: 'http://127.0.0.1:7000/service', fileName: 'api' });
});
