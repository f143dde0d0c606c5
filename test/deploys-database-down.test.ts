// Rollback while the SQL database is down (kill -9): the previous build comes from the goal's
// KV history, the goals are written, and the deployment, its audit row and the lock reach SQL
// once the database is back.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { isPlaceholderDeploymentId, selectAudit } from '../coordinator/index.ts';
import { onlyJson, runCli } from './support/cli.ts';
import { serviceBody, startTestCoordinator, type TestCoordinator } from './support/coordinator.ts';
import { deployableBuild } from './support/deployable-build.ts';
import { TestNatsCluster } from './support/nats-cluster.ts';
import { PrivateMariaDb } from './support/private-mariadb.ts';

const regions = ['eu', 'us'];
let cluster: TestNatsCluster;
let server: PrivateMariaDb;
let coordinator: TestCoordinator;
let databaseDown = false;

beforeAll(async () => {
  cluster = await TestNatsCluster.start(regions);
  server = await PrivateMariaDb.start();
  coordinator = await startTestCoordinator('mysql', {
    env: {
      FLEETCAST_DATABASE_URL: server.url,
      FLEETCAST_NATS_URL: cluster.urls.hub,
      FLEETCAST_REGIONS: regions.join(','),
      FLEETCAST_REPLICATION_CONCURRENCY: '0',
      FLEETCAST_AUDIT_EVERY: '7d',
      // Every region at once: this test is about the rollback, not the waves.
      FLEETCAST_DEPLOY_WAVES: 'all',
    },
    overrides: { spoolFlushMs: 300 },
  });
}, 120_000);

afterAll(async () => {
  // A coordinator stops cleanly only with its database up (its loops finish their rounds).
  if (databaseDown) await server.startServer();
  await coordinator?.stop();
  await server?.destroy();
  await cluster?.stop();
});

it('rolls back from the goal history with the database killed; the records reach SQL when it is back', async () => {
  expect((await coordinator.request('POST', '/v1/services', { body: serviceBody('api') })).status).toBe(201);
  const first = await deployableBuild(coordinator.handle, 'api', regions);
  const second = await deployableBuild(coordinator.handle, 'api', regions);
  for (const build of [first, second]) expect((await coordinator.request('POST', '/v1/deployments', { body: { build: `b${build.id}` } })).status).toBe(201);

  const before = await goalOf('eu');
  await server.kill9();
  databaseDown = true;
  const run = await runCli(['rollback', 'api', '--json'], coordinator.env);
  expect(run.code, run.stdout).toBe(0);
  const deployment = onlyJson(run);
  expect(deployment).toMatchObject({ kind: 'rollback', build: `b${first.id}`, regions, status: 'ROLLING', spooled: true });
  expect(isPlaceholderDeploymentId(deployment.id)).toBe(true);
  for (const region of regions) {
    const goal = await goalOf(region);
    expect(goal).toMatchObject({ build: `b${first.id}`, kind: 'rollback', deployment: deployment.id, digest: first.digest, v: 2, purpose: 'goal', sig: { key: coordinator.keys!.key.keyId } });
    // Signed with a sequence above the goal it replaces, taken from the goal bucket (SQL is down).
    expect(goal.seq).toBeGreaterThan(before.seq);
    expect(deployment.waves[0].goals[region]).toEqual({ seq: goal.seq, digest: first.digest, key: coordinator.keys!.key.keyId });
  }
  // Nothing reached SQL yet: the records wait in the spool.
  expect(coordinator.handle.deploys).toBeDefined();

  await server.startServer();
  databaseDown = false;
  const db = coordinator.handle.db;
  await expect.poll(async () => (await selectAudit(db, 'api').catch(() => [])).filter((row) => row.action === 'rollback').length, { timeout: 30_000, interval: 300 }).toBe(1);
  const [audit] = (await selectAudit(db, 'api')).filter((row) => row.action === 'rollback');
  expect(audit).toMatchObject({ actor: 'local-admin', result: 'ok' });
  const detail = JSON.parse(String(audit!.detail));
  expect(detail).toMatchObject({ withoutDatabase: true, spooled: true, placeholderDeployment: deployment.id, build: `b${first.id}` });
  const list = (await coordinator.request('GET', '/v1/deployments?service=api')).json.deployments;
  expect(list[0]).toMatchObject({ id: detail.deployment, kind: 'rollback', build: `b${first.id}` });
  // Followed by the wave runner once in SQL: no machines run api here, so it converges at once.
  expect(['ROLLING', 'CONVERGED']).toContain(list[0].status);
  const status = (await coordinator.request('GET', '/v1/services/api/status')).json;
  expect(status.lock).toMatchObject({ lockedBy: 'local-admin', reason: 'rolled back by local-admin' });
  expect(status.regions.map((r: { goal: { build: string } }) => r.goal.build)).toEqual([`b${first.id}`, `b${first.id}`]);
}, 120_000);

async function goalOf(region: string) {
  const kv = await cluster.rawKv(cluster.urls.hub, 'goal');
  const entry = await kv.get(`api.${region}`);
  return entry ? JSON.parse(new TextDecoder().decode(entry.value)) : null;
}
