// `service update` and `service remove` through the CLI and the API on a real coordinator
// (MariaDB, a NATS hub with two regional leaves, machines reporting as agents do): only the
// fields given change, a repeat changes nothing and is not audited again; removal is refused while
// machines run the service (SERVICE_IN_USE, exit 3) unless forced, keeps the builds, hides the
// service, answers a repeat the same way; a removed name can be registered again.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { StatusReporter } from '../goalstate/index.ts';
import { selectAudit } from '../coordinator/index.ts';
import { onlyJson, runCli } from './support/cli.ts';
import { serviceBody, startTestCoordinator, type TestCoordinator } from './support/coordinator.ts';
import { eventually } from './support/eventually.ts';
import { TestNatsCluster } from './support/nats-cluster.ts';

const regions = ['eu', 'us'];
let cluster: TestNatsCluster;
let coordinator: TestCoordinator;
let reporter: StatusReporter;

beforeAll(async () => {
  cluster = await TestNatsCluster.start(regions);
  coordinator = await startTestCoordinator('mysql', {
    env: { FLEETCAST_NATS_URL: cluster.urls.hub, FLEETCAST_REGIONS: regions.join(','), FLEETCAST_REPLICATION_CONCURRENCY: '0', FLEETCAST_AUDIT_EVERY: '7d' },
  });
  for (const name of ['api', 'web']) expect((await coordinator.request('POST', '/v1/services', { body: serviceBody(name, { runCommand: './run' }) })).status).toBe(201);
  reporter = await StatusReporter.connect({ url: cluster.urls.agents.eu!, region: 'eu', machine: 'eu-1', progressIntervalMs: 50, connect: { maxReconnectDelayMs: 300, timeoutMs: 2_000 } });
  await reporter.report('api', { build: 'b0', state: 'running' });
  await eventually(async () => (await coordinator.handle.deploys.status('api')).regions.some((r) => r.convergence.machines > 0), 20_000, 'the machine reported');
}, 120_000);

afterAll(async () => {
  await reporter?.close();
  await coordinator?.stop();
  await cluster?.stop();
});

const updates = async () => (await selectAudit(coordinator.handle.db, 'web')).filter((row) => row.action === 'service-update');

it('service update changes only what is given, clears with an empty value, and is idempotent', async () => {
  const run = await runCli(['service', 'update', 'web', '--artifact', 'dist/web', '--health', 'http://127.0.0.1:9000/healthz', '--json'], coordinator.env);
  expect(run.code, run.stderr).toBe(0);
  expect(onlyJson(run)).toMatchObject({ name: 'web', artifactPath: 'dist/web', healthUrl: 'http://127.0.0.1:9000/healthz', buildCommand: 'make', runCommand: './run', branch: 'main' });
  const rows = await updates();
  expect(rows).toHaveLength(1);
  expect(rows[0]).toMatchObject({ actor: 'local-admin', result: 'ok' });
  expect(JSON.parse(String(rows[0]!.detail))).toMatchObject({ changed: ['artifactPath', 'healthUrl'], artifactPath: 'dist/web' });

  // The same request again: the same answer, no second audit row.
  const again = await coordinator.request('PATCH', '/v1/services/web', { body: { artifactPath: 'dist/web', healthUrl: 'http://127.0.0.1:9000/healthz' } });
  expect(again.status).toBe(200);
  expect(await updates()).toHaveLength(1);

  const cleared = await runCli(['service', 'update', 'web', '--run', '', '--branch', 'main,release', '--json'], coordinator.env);
  expect(cleared.code, cleared.stderr).toBe(0);
  expect(onlyJson(cleared)).toMatchObject({ runCommand: null, branch: 'main,release', artifactPath: 'dist/web' });
  expect((await coordinator.handle.services.get('web')).runCommand).toBeNull();
});

it('service update sets and clears the per-service wave plan, auto-rollback and metric gate', async () => {
  const set = await runCli(['service', 'update', 'web', '--waves', 'eu:25%;eu;us', '--auto-rollback', 'off', '--gate-query', 'sum(errors{region="{{region}}"})', '--gate-max', '0.5', '--gate-for', '30s', '--json'], coordinator.env);
  expect(set.code, set.stderr).toBe(0);
  expect(onlyJson(set)).toMatchObject({ wavePlan: 'eu:25%;eu;us', autoRollback: false, metricGate: { query: 'sum(errors{region="{{region}}"})', max: 0.5, holdMs: 30_000 } });
  expect(await coordinator.handle.services.get('web')).toMatchObject({ wavePlan: 'eu:25%;eu;us', autoRollback: false, metricGate: { max: 0.5, holdMs: 30_000 } });

  // A plan naming a region the coordinator does not have is refused, and nothing changes.
  const mars = await runCli(['service', 'update', 'web', '--waves', 'mars:5%;eu'], coordinator.env);
  expect(mars.code).toBe(2);
  expect(mars.stderr).toMatch(/mars/);
  // Half a gate is a mistake worth saying.
  const half = await runCli(['service', 'update', 'web', '--gate-max', '1'], coordinator.env);
  expect(half.code).not.toBe(0);
  expect(half.stderr).toMatch(/--gate-query/);

  const cleared = await runCli(['service', 'update', 'web', '--waves', '', '--auto-rollback', 'default', '--no-gate', '--json'], coordinator.env);
  expect(cleared.code, cleared.stderr + cleared.stdout).toBe(0);
  expect(onlyJson(cleared)).toMatchObject({ wavePlan: null, autoRollback: null, metricGate: null });
  expect(await coordinator.handle.services.get('web')).toMatchObject({ wavePlan: null, autoRollback: null, metricGate: null });
});

it('service update --continuous-deploy / --no-continuous-deploy turns the delivery loop on and off (DESIGN.md)', async () => {
  const on = await runCli(['service', 'update', 'web', '--continuous-deploy', '--json'], coordinator.env);
  expect(on.code, on.stderr + on.stdout).toBe(0);
  expect(onlyJson(on)).toMatchObject({ name: 'web' });
  expect((await coordinator.request('GET', '/v1/services/web/delivery')).json.continuousDeploy).toMatchObject({ enabled: true });
  const off = await runCli(['service', 'update', 'web', '--no-continuous-deploy', '--json'], coordinator.env);
  expect(off.code, off.stderr + off.stdout).toBe(0);
  expect((await coordinator.request('GET', '/v1/services/web/delivery')).json.continuousDeploy).toMatchObject({ enabled: false });
});

it('service update refuses bad values and unknown fields, naming them, and nothing without a flag', async () => {
  const bad = await coordinator.request('PATCH', '/v1/services/web', { body: { artifactPath: '../etc/passwd' } });
  expect(bad.status).toBe(400);
  expect(bad.json.error.message).toMatch(/artifactPath/);
  const unknown = await coordinator.request('PATCH', '/v1/services/web', { body: { runComand: 'x' } });
  expect(unknown.status).toBe(400);
  expect((await coordinator.request('PATCH', '/v1/services/nope', { body: { buildCommand: 'x' } })).status).toBe(404);
  const nothing = await runCli(['service', 'update', 'web'], coordinator.env);
  expect(nothing.code).toBe(2);
  expect(nothing.stderr).toMatch(/nothing to change/);
});

it('service remove is refused while machines run it, forced when asked, keeps history, and is idempotent', async () => {
  const { build } = await coordinator.handle.queue.submit({ service: 'api', commit: 'a'.repeat(40) });
  const refused = await runCli(['service', 'remove', 'api'], coordinator.env);
  expect(refused.code).toBe(3);
  expect(refused.stderr).toMatch(/SERVICE_IN_USE|still runs \(eu: 1 machine\)/);
  expect((await coordinator.request('GET', '/v1/services/api')).status).toBe(200);

  const forced = await runCli(['service', 'remove', 'api', '--force', '--json'], coordinator.env);
  expect(forced.code, forced.stderr).toBe(0);
  expect(onlyJson(forced)).toEqual({ name: 'api', removed: true, changed: true });
  expect((await coordinator.request('GET', '/v1/services/api')).status).toBe(404);
  expect((await coordinator.request('GET', '/v1/services')).json.services.map((s: { name: string }) => s.name)).toEqual(['web']);
  // History stays: the build is still there, and new builds are refused.
  expect((await coordinator.request('GET', `/v1/builds/b${build.id}`)).status).toBe(200);
  expect((await coordinator.request('POST', '/v1/builds', { body: { service: 'api', commit: 'b'.repeat(40) } })).status).toBe(404);

  const repeat = await coordinator.request('DELETE', '/v1/services/api');
  expect(repeat.status).toBe(200);
  expect(repeat.json).toEqual({ name: 'api', removed: true, changed: false });
  const removals = (await selectAudit(coordinator.handle.db, 'api')).filter((row) => row.action === 'service-remove');
  expect(removals).toHaveLength(1);
  expect(JSON.parse(String(removals[0]!.detail))).toMatchObject({ force: true, inUse: expect.stringMatching(/eu: 1 machine/) });

  // The name can be registered again; its old build is still its own.
  const again = await coordinator.request('POST', '/v1/services', { body: serviceBody('api', { buildCommand: 'make all' }) });
  expect(again.status, again.text).toBe(201);
  expect(again.json).toMatchObject({ name: 'api', buildCommand: 'make all', runCommand: null });
});

it('service remove of a service no machine runs needs no force; an unknown one is NOT_FOUND', async () => {
  expect((await coordinator.request('DELETE', '/v1/services/web')).json).toEqual({ name: 'web', removed: true, changed: true });
  expect((await coordinator.request('DELETE', '/v1/services/nope')).status).toBe(404);
});
