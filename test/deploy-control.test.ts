// Rollout control through the CLI (--json) and the API on a real coordinator (MariaDB, a NATS hub
// with two regional leaves), machines reporting on their leaf as agents do: pause holds the next
// wave, resume lets it go, promote skips the gate, abort rolls the written regions back and locks
// the service. Each action is audited, idempotent, and refused to a read-only token and to a
// token limited to another service.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { StatusReporter, type StatusUpdate } from '../goalstate/index.ts';
import { selectAudit } from '../coordinator/index.ts';
import { onlyJson, runCli } from './support/cli.ts';
import { asAgentReports, serviceBody, startTestCoordinator, type TestCoordinator } from './support/coordinator.ts';
import { deployableBuild } from './support/deployable-build.ts';
import { eventually } from './support/eventually.ts';
import { TestNatsCluster } from './support/nats-cluster.ts';

const regions = ['eu', 'us'];
const readToken = 'control-test-read-token-0123456789abcdef';
const webToken = 'control-test-web-only-token-0123456789';
let cluster: TestNatsCluster;
let coordinator: TestCoordinator;
const machines: Record<string, StatusReporter> = {};

const report = async (region: string, machine: string, update: StatusUpdate) => machines[machine]!.report('api', await asAgentReports(coordinator.handle, 'api', region, update));
const goalBuild = async (region: string) => (await coordinator.handle.deploys.status('api')).regions.find((r) => r.region === region)!.goal?.build ?? null;
const cli = async (args: string[], code = 0) => {
  const run = await runCli([...args, '--json'], coordinator.env);
  expect(run.code, run.stderr + run.stdout).toBe(code);
  return onlyJson(run);
};
/** Every machine runs `build` (the region's signed goal). */
const runEverywhere = async (build: string, only = regions) => {
  for (const region of only) for (const machine of Object.keys(machines).filter((m) => m.startsWith(region))) await report(region, machine, { build, state: 'running' });
};
const deploy = async () => {
  const build = `b${(await deployableBuild(coordinator.handle, 'api', regions)).id}`;
  const deployment = await cli(['deploy', build]);
  await eventually(async () => (await goalBuild('eu')) === build, 10_000, 'the canary goal');
  return { build, id: deployment.id as string };
};

beforeAll(async () => {
  cluster = await TestNatsCluster.start(regions);
  const permissions = path.join(cluster.dir, 'permissions.json');
  fs.writeFileSync(permissions, JSON.stringify({ tokens: [{ name: 'dashboard', token: readToken, scopes: ['read'] }, { name: 'web-ci', token: webToken, scopes: ['deploy'], services: ['web'] }] }));
  coordinator = await startTestCoordinator('mysql', {
    env: { FLEETCAST_NATS_URL: cluster.urls.hub, FLEETCAST_REGIONS: regions.join(','), FLEETCAST_REPLICATION_CONCURRENCY: '0', FLEETCAST_AUDIT_EVERY: '7d', FLEETCAST_PERMISSIONS: permissions },
  });
  expect((await coordinator.request('POST', '/v1/services', { body: serviceBody('api') })).status).toBe(201);
  for (const [region, machine] of [['eu', 'eu-1'], ['us', 'us-1']] as const) {
    machines[machine] = await StatusReporter.connect({ url: cluster.urls.agents[region]!, region, machine, progressIntervalMs: 50, connect: { maxReconnectDelayMs: 300, timeoutMs: 2_000 } });
    await machines[machine].report('api', { build: 'b0', state: 'running' });
  }
  await eventually(async () => (await coordinator.handle.deploys.status('api')).regions.every((r) => r.convergence.machines > 0), 20_000, 'every machine reported');
}, 120_000);

afterAll(async () => {
  for (const reporter of Object.values(machines)) await reporter.close();
  await coordinator?.stop();
  await cluster?.stop();
});

it('pause holds the next wave after the canary converged; resume writes it; both idempotent and audited', async () => {
  const { build, id } = await deploy();
  expect(await cli(['deployment', 'pause', id, '--reason', 'watching the graphs'])).toMatchObject({ id, status: 'PAUSED', replayed: false });
  expect(await cli(['deployment', 'pause', id])).toMatchObject({ id, status: 'PAUSED', replayed: true });
  await runEverywhere(build, ['eu']);
  // The canary converges (recorded) but the next wave waits.
  await eventually(async () => (await coordinator.handle.deploys.get(id)).waves[0]!.status === 'CONVERGED', 10_000, 'the canary recorded as converged');
  await new Promise((resolve) => setTimeout(resolve, 500));
  expect(await goalBuild('us')).not.toBe(build);
  expect(await cli(['deployment', 'show', id])).toMatchObject({ deployment: { status: 'PAUSED', waves: [{ status: 'CONVERGED' }, { status: 'PENDING' }] }, final: false });

  expect(await cli(['deployment', 'resume', id])).toMatchObject({ status: 'ROLLING', replayed: false });
  await eventually(async () => (await goalBuild('us')) === build, 10_000, 'the second wave once resumed');
  await runEverywhere(build, ['us']);
  await eventually(async () => (await coordinator.handle.deploys.get(id)).status === 'CONVERGED', 10_000, 'the rollout to converge');
  // A converged rollout cannot be paused any more.
  expect((await cli(['deployment', 'pause', id], 1)).error).toMatchObject({ code: 'CONFLICT', message: expect.stringContaining(`${id} is CONVERGED`) });

  const audit = (await selectAudit(coordinator.handle.db, 'api')).filter((row) => ['pause', 'resume'].includes(String(row.action)));
  expect(audit.map((row) => [row.action, row.result, JSON.parse(String(row.detail)).deployment])).toEqual([
    ['pause', 'ok', id],
    ['pause', 'ok', id],
    ['resume', 'ok', id],
    ['pause', 'refused', id],
  ]);
  expect(JSON.parse(String(audit[0]!.detail))).toMatchObject({ reason: 'watching the graphs' });
});

it('promote skips the gate: the next wave is written before the canary converged; a retry naming the wave changes nothing', async () => {
  const { build, id } = await deploy();
  await report('eu', 'eu-1', { build, state: 'downloading', bytes: 10, total: 1234 });
  const promoted = await cli(['deployment', 'promote', id, '--wave', '1']);
  expect(promoted).toMatchObject({ status: 'ROLLING', waves: [{ status: 'CONVERGED', promotedBy: 'local-admin' }, { status: 'PENDING' }] });
  await eventually(async () => (await goalBuild('us')) === build, 10_000, 'the second wave after the promotion');
  expect(await cli(['deployment', 'promote', id, '--wave', '1'])).toMatchObject({ replayed: true });
  expect((await cli(['deployment', 'promote', id], 1)).error).toMatchObject({ code: 'CONFLICT', message: expect.stringContaining('no gate left') });
  await runEverywhere(build);
});

it('abort stops the rollout and rolls the written regions back to the build before, locking the service; refused to a read-only token', async () => {
  // A build everywhere first: what the abort goes back to.
  const first = await deploy();
  await runEverywhere(first.build, ['eu']);
  await eventually(async () => (await goalBuild('us')) === first.build, 10_000, 'the second wave of the first build');
  await runEverywhere(first.build, ['us']);
  await eventually(async () => (await coordinator.handle.deploys.get(first.id)).status === 'CONVERGED', 10_000, 'the first build to converge');
  const before = first.build;
  const { build, id } = await deploy();
  const forbidden = await coordinator.request('POST', `/v1/deployments/${id}/abort`, { token: readToken, body: {} });
  expect(forbidden.status).toBe(403);
  expect(forbidden.json.error.code).toBe('FORBIDDEN');
  // A deploy token limited to another service cannot stop this one's rollout.
  const otherService = await coordinator.request('POST', `/v1/deployments/${id}/abort`, { token: webToken, body: {} });
  expect(otherService.status).toBe(403);
  expect(otherService.json.error).toMatchObject({ code: 'FORBIDDEN', details: { token: 'web-ci', service: 'api' } });

  const aborted = await cli(['deployment', 'abort', id, '--reason', 'error rate up']);
  expect(aborted).toMatchObject({ status: 'ABORTED', rollback: expect.stringMatching(/^d\d+$/), waves: [{ status: 'WRITTEN' }, { status: 'SKIPPED' }] });
  expect(aborted.error).toMatch(new RegExp(`^aborted by local-admin: error rate up; rolled back by local-admin: eu back on ${before} \\(${aborted.rollback}\\); api is locked$`));
  expect(await goalBuild('eu')).toBe(before);
  expect(await goalBuild('us')).toBe(before);
  expect(await goalBuild('eu')).not.toBe(build);
  const status = (await coordinator.request('GET', '/v1/services/api/status')).json;
  expect(status.lock).toMatchObject({ lockedBy: 'local-admin', reason: `rollback of ${id}, aborted by local-admin: error rate up` });
  expect(await cli(['deployment', 'abort', id])).toMatchObject({ status: 'ABORTED', replayed: true });
  expect((await coordinator.handle.deploys.list({ service: 'api', limit: 10 })).filter((d) => d.kind === 'rollback')).toHaveLength(1);
  expect((await cli(['deployment', 'resume', id], 1)).error.code).toBe('CONFLICT');
  const audit = (await selectAudit(coordinator.handle.db, 'api')).filter((row) => row.action === 'abort').map((row) => [row.actor, row.result]);
  expect(audit).toEqual([
    ['web-ci', 'refused'],
    ['local-admin', 'ok'],
    ['local-admin', 'ok'],
  ]);
  // Refused before the deployment was read: audited under the deployment id asked for.
  expect((await selectAudit(coordinator.handle.db, id)).map((row) => [row.action, row.actor, row.result])).toEqual([['abort', 'dashboard', 'refused']]);
});
