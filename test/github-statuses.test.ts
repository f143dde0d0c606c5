// GitHub hears about builds and deploys through the real @octokit/rest client against a local
// fake of the few endpoints used (test/support/fake-github-server.ts), from a real coordinator
// (MariaDB, a NATS hub with two regional leaves, machines reporting as agents do): commit
// statuses per build in order, a GitHub deployment per region with its statuses in order for a
// deploy and for a rollback; with GitHub down a deploy still goes through and its statuses are
// delivered, in order, once GitHub answers again.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { StatusReporter } from '../goalstate/index.ts';
import { asAgentReports, serviceBody, startTestCoordinator, type TestCoordinator } from './support/coordinator.ts';
import { deployableBuild } from './support/deployable-build.ts';
import { eventually } from './support/eventually.ts';
import { FakeGithubServer } from './support/fake-github-server.ts';
import { TestNatsCluster } from './support/nats-cluster.ts';

const regions = ['eu', 'us'];
let cluster: TestNatsCluster;
let coordinator: TestCoordinator;
let github: FakeGithubServer;
const machines: Record<string, StatusReporter> = {};

const runEverywhere = async (build: string) => {
  for (const region of regions) await machines[region]!.report('api', await asAgentReports(coordinator.handle, 'api', region, { build, state: 'running' }));
};
/** The state sequence GitHub got for the deployment of `deployment` in each region. */
const deploymentStates = (deployment: string) =>
  Object.fromEntries(
    github
      .of('deployment')
      .filter((d) => d.payload.deployment === deployment)
      .map((d) => [d.environment, github.of('deployment-status').filter((s) => s.deploymentId === d.id).map((s) => s.state)]),
  );

beforeAll(async () => {
  github = await FakeGithubServer.start();
  cluster = await TestNatsCluster.start(regions);
  coordinator = await startTestCoordinator('mysql', {
    env: {
      FLEETCAST_NATS_URL: cluster.urls.hub,
      FLEETCAST_REGIONS: regions.join(','),
      FLEETCAST_REPLICATION_CONCURRENCY: '0',
      FLEETCAST_AUDIT_EVERY: '7d',
      FLEETCAST_DEPLOY_WAVES: 'all',
      FLEETCAST_GITHUB_TOKEN: github.token,
      FLEETCAST_GITHUB_API_URL: github.url,
    },
    overrides: { githubIntervalMs: 100, githubRetryMs: 200 },
  });
  expect((await coordinator.request('POST', '/v1/services', { body: serviceBody('api', { repo: 'https://github.com/acme/api.git' }) })).status).toBe(201);
  // A local repository is not on GitHub: its builds tell nobody.
  expect((await coordinator.request('POST', '/v1/services', { body: serviceBody('local') })).status).toBe(201);
  for (const region of regions) {
    machines[region] = await StatusReporter.connect({ url: cluster.urls.agents[region]!, region, machine: `${region}-1`, progressIntervalMs: 50, connect: { maxReconnectDelayMs: 300, timeoutMs: 2_000 } });
    await machines[region].report('api', { build: 'b0', state: 'running' });
  }
  await eventually(async () => (await coordinator.handle.deploys.status('api')).regions.every((r) => r.convergence.machines > 0), 20_000, 'every machine reported');
}, 120_000);

afterAll(async () => {
  for (const reporter of Object.values(machines)) await reporter.close();
  await coordinator?.stop();
  await cluster?.stop();
  await github?.close();
});

it('sends a commit status per build state, in order, for services on GitHub only', async () => {
  const { queue } = coordinator.handle;
  const { build } = await queue.submit({ service: 'api', commit: 'a'.repeat(40) });
  await eventually(async () => github.of('status').some((s) => s.sha === 'a'.repeat(40)), 30_000, 'the pending status');
  const claimed = (await queue.claim('test-builder'))!;
  await queue.fail(claimed.claim, 'build command exited with code 2');
  await queue.submit({ service: 'local', commit: 'c'.repeat(40) });
  await queue.fail((await queue.claim('test-builder'))!.claim, 'no builder in this test');
  const good = await deployableBuild(coordinator.handle, 'api', regions);

  await eventually(async () => github.of('status').filter((s) => s.sha === good.commit).length === 2, 30_000, 'the statuses of the good build');
  expect(github.of('status').filter((s) => s.sha === 'a'.repeat(40)).map((s) => [s.repo, s.context, s.state])).toEqual([
    ['acme/api', 'fleetcast/build', 'pending'],
    ['acme/api', 'fleetcast/build', 'failure'],
  ]);
  expect(github.of('status').find((s) => s.state === 'failure')!.description).toBe(`b${build.id} failed: build command exited with code 2`);
  expect(github.of('status').filter((s) => s.sha === good.commit).map((s) => s.state)).toEqual(['pending', 'success']);
  expect(github.of('status').some((s) => s.sha === 'c'.repeat(40))).toBe(false);
}, 120_000);

it('creates a GitHub deployment per region for a deploy and a rollback, with their statuses in order', async () => {
  const first = `b${(await deployableBuild(coordinator.handle, 'api', regions)).id}`;
  const one = await coordinator.request('POST', '/v1/deployments', { body: { build: first } });
  expect(one.status, one.text).toBe(201);
  await runEverywhere(first);
  await eventually(async () => (await coordinator.handle.deploys.get(one.json.id)).status === 'CONVERGED', 20_000, 'the first deploy converged');
  const second = `b${(await deployableBuild(coordinator.handle, 'api', regions)).id}`;
  const two = await coordinator.request('POST', '/v1/deployments', { body: { build: second } });
  await runEverywhere(second);
  await eventually(async () => (await coordinator.handle.deploys.get(two.json.id)).status === 'CONVERGED', 20_000, 'the second deploy converged');

  const back = await coordinator.request('POST', '/v1/services/api/rollback', { body: { to: first, reason: 'bad graphs' } });
  expect(back.status, back.text).toBe(201);
  await runEverywhere(first);
  await eventually(async () => (await coordinator.handle.deploys.get(back.json.id)).status === 'CONVERGED', 20_000, 'the rollback converged');
  await eventually(async () => Object.values(deploymentStates(back.json.id)).every((states) => states.at(-1) === 'success') && Object.keys(deploymentStates(back.json.id)).length === 2, 30_000, 'the rollback statuses');
  await eventually(async () => Object.values(deploymentStates(two.json.id)).every((states) => states.at(-1) === 'inactive'), 30_000, 'the rolled back deploy marked inactive');

  expect(deploymentStates(one.json.id)).toEqual({ eu: ['queued', 'in_progress', 'success'], us: ['queued', 'in_progress', 'success'] });
  expect(deploymentStates(two.json.id)).toEqual({ eu: ['queued', 'in_progress', 'success', 'inactive'], us: ['queued', 'in_progress', 'success', 'inactive'] });
  expect(deploymentStates(back.json.id)).toEqual({ eu: ['queued', 'in_progress', 'success'], us: ['queued', 'in_progress', 'success'] });
  const rollback = github.of('deployment').filter((d) => d.payload.deployment === back.json.id);
  expect(rollback.map((d) => [d.repo, d.task, d.ref, d.payload.build])).toEqual(regions.map(() => ['acme/api', 'deploy:rollback', (rollback[0]!.ref), first]));
  // Each deployment came before its statuses.
  for (const d of github.of('deployment')) {
    const created = github.calls.indexOf(d);
    expect(github.calls.findIndex((c) => c.kind === 'deployment-status' && c.deploymentId === d.id)).toBeGreaterThan(created);
  }
  await coordinator.request('DELETE', '/v1/services/api/lock');
}, 120_000);

it('with GitHub down a deploy goes through; its statuses are delivered in order once GitHub is back', async () => {
  const build = `b${(await deployableBuild(coordinator.handle, 'api', regions)).id}`;
  await eventually(async () => github.of('status').filter((s) => s.description.startsWith(`${build} `)).length === 2, 30_000, 'the build statuses');
  github.down = true;
  const deployed = await coordinator.request('POST', '/v1/deployments', { body: { build } });
  expect(deployed.status, deployed.text).toBe(201);
  await runEverywhere(build);
  await eventually(async () => (await coordinator.handle.deploys.get(deployed.json.id)).status === 'CONVERGED', 20_000, 'the deploy converged while GitHub is down');
  await eventually(async () => github.refused >= 3, 30_000, 'retries against GitHub');
  expect(deploymentStates(deployed.json.id)).toEqual({});
  const [waiting] = await coordinator.handle.db.query(`SELECT COUNT(*) AS n FROM github_outbox WHERE delivered_at IS NULL AND attempts > 0`);
  expect(Number(waiting!.n)).toBeGreaterThan(0);
  const metrics = await coordinator.request('GET', '/metrics', { token: null });
  expect(Number(/^fleetcast_github_outbox_pending (\d+)$/m.exec(metrics.text)?.[1])).toBeGreaterThan(0);

  github.down = false;
  await eventually(async () => Object.values(deploymentStates(deployed.json.id)).filter((states) => states.at(-1) === 'success').length === 2, 30_000, 'the statuses delivered later');
  expect(deploymentStates(deployed.json.id)).toEqual({ eu: ['queued', 'in_progress', 'success'], us: ['queued', 'in_progress', 'success'] });
  // Nothing is left behind (the last events may still be on their way a moment).
  await eventually(async () => Number((await coordinator.handle.db.query(`SELECT COUNT(*) AS n FROM github_outbox WHERE delivered_at IS NULL`))[0]!.n) === 0, 30_000, 'an empty outbox');
}, 120_000);
