// Waves against real agents' reports: a coordinator (MariaDB) on a real NATS hub with two
// regional leaves, machines reporting through StatusReporter on their leaf as agents do. The
// canary region must converge before the next wave is written; a failed canary machine halts
// the rollout; `deploy --wait` follows it live and exits by the outcome; a leaf restarted
// mid-rollout catches up; a coordinator started while the hub is down deploys once it is up.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegionGoalView, StatusReporter, type StatusUpdate } from '../goalstate/index.ts';
import { eventually } from './support/eventually.ts';
import { onlyJson, startCli } from './support/cli.ts';
import { asAgentReports, serviceBody, startTestCoordinator, type TestCoordinator } from './support/coordinator.ts';
import { deployableBuild } from './support/deployable-build.ts';
import { TestNatsCluster } from './support/nats-cluster.ts';

const regions = ['eu', 'us'];
let cluster: TestNatsCluster;
let coordinator: TestCoordinator;
const reporters: StatusReporter[] = [];
const machines: Record<string, Record<string, StatusReporter>> = { eu: {}, us: {} };

/** Reports as an agent would: running the region's goal build means having applied its signed goal (its digest and sequence). */
const report = async (region: string, machine: string, update: StatusUpdate) => machines[region]![machine]!.report('api', await asAgentReports(coordinator.handle, 'api', region, update));
const goalBuild = async (region: string) => (await coordinator.handle.deploys.status('api')).regions.find((r) => r.region === region)!.goal?.build ?? null;

beforeAll(async () => {
  cluster = await TestNatsCluster.start(regions);
  coordinator = await startTestCoordinator('mysql', {
    env: { FLEETCAST_NATS_URL: cluster.urls.hub, FLEETCAST_REGIONS: regions.join(','), FLEETCAST_REPLICATION_CONCURRENCY: '0', FLEETCAST_AUDIT_EVERY: '7d' },
  });
  expect((await coordinator.request('POST', '/v1/services', { body: serviceBody('api') })).status).toBe(201);
  for (const [region, names] of [['eu', ['eu-1', 'eu-2']], ['us', ['us-1']]] as const) {
    for (const machine of names) {
      const reporter = await StatusReporter.connect({ url: cluster.urls.agents[region]!, region, machine, progressIntervalMs: 50, connect: { maxReconnectDelayMs: 300, timeoutMs: 2_000 } });
      reporters.push(reporter);
      machines[region]![machine] = reporter;
      await reporter.report('api', { build: 'b0', state: 'running' });
    }
  }
  // The coordinator sees every machine before the test deploys.
  await eventually(async () => (await coordinator.handle.deploys.status('api')).regions.every((r) => r.convergence.machines > 0), 20_000, 'every machine reported');
}, 120_000);

afterAll(async () => {
  for (const reporter of reporters) await reporter.close();
  await coordinator?.stop();
  await cluster?.stop();
});

describe('a canary rollout', () => {
  it('writes the next wave only once the canary machines run the build, and --wait exits 0 at convergence', async () => {
    const build = await deployableBuild(coordinator.handle, 'api', regions);
    const id = `b${build.id}`;
    const wait = startCli(['deploy', id, '--wait', '--json'], coordinator.env);
    await eventually(async () => (await goalBuild('eu')) === id, 10_000, 'the canary goal');

    // One canary machine on the build, the other still downloading: the rollout holds.
    await report('eu', 'eu-1', { build: id, state: 'running' });
    await report('eu', 'eu-2', { build: id, state: 'downloading', bytes: 600, total: 1234 });
    const holding = await eventually(async () => {
      const status = await coordinator.handle.deploys.status('api');
      const eu = status.regions.find((r) => r.region === 'eu')!.convergence;
      return eu.running === 1 && eu.downloading.machines === 1 && status;
    }, 10_000, 'the coordinator to see the canary half-way');
    expect(holding.deployment).toMatchObject({ status: 'ROLLING', waves: [{ regions: ['eu'], status: 'WRITTEN' }, { regions: ['us'], status: 'PENDING' }] });
    expect(await goalBuild('us')).toBeNull();
    // Meanwhile the later wave's region holds a prefetch hint for the build in its mirror.
    const usView = await RegionGoalView.connect({ url: cluster.urls.agents.us!, region: 'us', keyring: coordinator.keys!.keyring });
    try {
      const hints: (string | undefined)[] = [];
      const watch = usView.watch(['api'], () => undefined, { onPrefetch: (update) => void hints.push(update.goal?.deployment) });
      await eventually(() => hints.includes(holding.deployment!.id), 10_000, 'the prefetch hint in the us mirror');
      await watch.stop();
    } finally {
      await usView.close();
    }
    await eventually(() => /eu\s+wave 1 WRITTEN\s+1\/2 running/.test(wait.output().stderr), 10_000, '--wait to show the canary half-way');

    // A leaf restarted mid-rollout: the coordinator's view of that region comes back by itself.
    await cluster.restartLeaf('us');
    await report('eu', 'eu-2', { build: id, state: 'running' });
    await eventually(async () => (await goalBuild('us')) === id, 20_000, 'the second wave after the canary converged');
    await eventually(() => report('us', 'us-1', { build: id, state: 'running' }), 20_000, 'the us machine to report again after its leaf restarted');

    const run = await wait.done;
    expect(run.code, run.stderr).toBe(0);
    const final = onlyJson(run);
    expect(final.deployment).toMatchObject({ status: 'CONVERGED', convergedAt: expect.any(String), waves: [{ status: 'CONVERGED' }, { status: 'CONVERGED' }] });
    expect(final.progress.map((p: { region: string; running: number; machines: number }) => [p.region, p.running, p.machines])).toEqual([['eu', 2, 2], ['us', 1, 1]]);
    expect(run.stderr).toMatch(/us\s+wave 2 CONVERGED\s+1\/1 running/);
  });

  it('fails when a canary machine fails: the next wave is not written, the canary is rolled back, --wait exits 1 naming the machine', async () => {
    const before = await goalBuild('us');
    const build = await deployableBuild(coordinator.handle, 'api', regions);
    const id = `b${build.id}`;
    const wait = startCli(['deploy', id, '--wait', '--json'], coordinator.env);
    await eventually(async () => (await goalBuild('eu')) === id, 10_000, 'the canary goal');
    await report('eu', 'eu-1', { build: id, state: 'running' });
    await report('eu', 'eu-2', { build: id, state: 'failed', error: 'health check failed: exited with code 3 within 5 s' });
    const run = await wait.done;
    expect(run.code).toBe(1);
    const final = onlyJson(run);
    expect(final.deployment.status).toBe('FAILED');
    expect(final.deployment.error).toContain('eu/eu-2: health check failed: exited with code 3 within 5 s');
    expect(final.deployment.waves.map((w: { status: string }) => w.status)).toEqual(['FAILED', 'SKIPPED']);
    expect(await goalBuild('us')).toBe(before);
    // Rolled back automatically: the canary's goal is the build before again, and the service is locked until someone looks.
    expect(final.deployment.rollback).toMatch(/^d\d+$/);
    expect(await goalBuild('eu')).toBe(before);
    expect((await coordinator.handle.deploys.status('api')).lock).toMatchObject({ lockedBy: 'fleetcast' });
    await coordinator.handle.deploys.unlock('api', { by: 'test' });
    // The deployment's own progress (against what it signed) still names the machine that failed.
    const shown = (await coordinator.request('GET', `/v1/deployments/${final.deployment.id}/progress`)).json;
    expect(shown.progress.find((r: { region: string }) => r.region === 'eu').failed.examples[0]).toMatchObject({ machine: 'eu-2' });
  });
});

describe('the hub down', () => {
  it('a deploy answers NATS_UNAVAILABLE and writes nothing; the regions keep serving their goal; deploys work again once it is back', async () => {
    const view = await RegionGoalView.connect({ url: cluster.urls.agents.us!, region: 'us', keyring: coordinator.keys!.keyring, connect: { timeoutMs: 2_000 } });
    try {
      // The us leaf was restarted above: its mirror catches up with the hub within seconds.
      const hubGoal = await goalBuild('us');
      const before = (await eventually(async () => (await view.get('api'))?.goal.build === hubGoal && hubGoal, 20_000, 'the us mirror to catch up'))!;
      const build = await deployableBuild(coordinator.handle, 'api', regions);
      await cluster.stopHub();
      const refused = await coordinator.request('POST', '/v1/deployments', { body: { build: `b${build.id}`, regions: ['us'] } });
      expect(refused.status).toBe(503);
      expect(refused.json.error.code).toBe('NATS_UNAVAILABLE');
      expect(refused.json.error.message).toMatch(/hub/);
      expect((await view.get('api'))!.goal.build).toBe(before);
      await cluster.startHub();
      const deployed = await eventually(async () => {
        const reply = await coordinator.request('POST', '/v1/deployments', { body: { build: `b${build.id}`, regions: ['us'] } });
        return reply.status === 201 && reply;
      }, 20_000, 'a deploy to succeed once the hub is back');
      await eventually(async () => (await view.get('api'))?.goal.deployment === deployed.json.id, 20_000, 'the new goal in the us mirror');
    } finally {
      await view.close();
    }
  }, 60_000);
});

describe('the hub down when the coordinator starts', () => {
  it('deploys answer NATS_UNAVAILABLE, then work once the hub is up, without a restart', async () => {
    await cluster.stopHub();
    const late = await startTestCoordinator('mysql', {
      env: { FLEETCAST_NATS_URL: cluster.urls.hub, FLEETCAST_REGIONS: regions.join(','), FLEETCAST_REPLICATION_CONCURRENCY: '0', FLEETCAST_AUDIT_EVERY: '7d', FLEETCAST_DEPLOY_WAVES: 'all' },
    });
    try {
      expect((await late.request('POST', '/v1/services', { body: serviceBody('api') })).status).toBe(201);
      const build = await deployableBuild(late.handle, 'api', regions);
      const refused = await late.request('POST', '/v1/deployments', { body: { build: `b${build.id}` } });
      expect(refused.status).toBe(503);
      expect(refused.json.error).toMatchObject({ code: 'NATS_UNAVAILABLE', message: expect.stringMatching(/not connected to the NATS hub at .* it retries every/) });
      await cluster.startHub();
      await late.handle.hub.ready;
      const deployed = await late.request('POST', '/v1/deployments', { body: { build: `b${build.id}` } });
      expect(deployed.status, deployed.text).toBe(201);
    } finally {
      await late.stop();
    }
  }, 60_000);
});
