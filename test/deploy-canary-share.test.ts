// Canaries inside a region with real agents (in this process, on their own agent dirs and NATS
// connections, fetching from their regional bucket) and a real coordinator on MariaDB over a
// NATS hub with one leaf per region. A wave of 25 % of a region of 4 agents touches exactly the
// one machine the hash of machine id and service puts in the share — the same one on the next
// deploy — and the next wave moves the rest (the machines outside the share switch from their
// caches: they fetched the canary's build meanwhile). The service's own wave plan and its own
// auto-rollback setting (over FLEETCAST_DEPLOY_AUTO_ROLLBACK=false) are used: a dying build is
// run by the canary machine only, and rolled back.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { inShare, type StatusReport } from '../goalstate/index.ts';
import { serviceScript, TestFleet, type TestAgent } from './support/agent-fleet.ts';
import { storeArtifact } from './support/agent-artifacts.ts';
import { serviceBody, startTestCoordinator, type TestCoordinator } from './support/coordinator.ts';
import { deployableBuild } from './support/deployable-build.ts';
import { eventually } from './support/eventually.ts';
import { onlyJson, runCli } from './support/cli.ts';

const regions = ['eu', 'us'];
let fleet: TestFleet;
let coordinator: TestCoordinator;
const agents: TestAgent[] = [];

// Four machines in eu of which exactly one is in 25 % of it for api: picked by the same hash the
// agents and the coordinator use, so the test knows which one must canary.
const candidates = Array.from({ length: 200 }, (_, i) => `eu-${i + 1}`);
const canaryMachine = candidates.find((m) => inShare('api', m, 25))!;
const others = candidates.filter((m) => !inShare('api', m, 25)).slice(0, 3);
const eu = () => agents.filter((a) => a.region === 'eu');
const ranBuild = (build: string) => agents.filter((a) => a.runs('api').some((r) => r.build === build)).map((a) => a.machine);

async function agentBuild(script: string): Promise<string> {
  const build = await deployableBuild(coordinator.handle, 'api', regions, [], async (id) => {
    const stored = await storeArtifact(await Promise.all(regions.map((r) => fleet.bucket(r))), 'api', id, 50_000, script);
    return { digest: stored.digest, size: stored.bytes.length };
  });
  return `b${build.id}`;
}

const deploy = async (body: Record<string, unknown>) => {
  const reply = await coordinator.request('POST', '/v1/deployments', { body });
  expect(reply.status, reply.text).toBe(201);
  return reply.json.id as string;
};
const deployment = (id: string) => coordinator.handle.deploys.get(id);
const running = (build: string) => (r: StatusReport) => r.state === 'running' && r.build === build;
const everyAgentRuns = async (build: string, which = agents) => {
  for (const agent of which) await fleet.reportOf(agent.region, 'api', agent.machine, running(build), 30_000);
};

/**
 * Deploys `build` and holds the rollout after its first wave (paused at once, before the canary
 * can converge): what the share wave did is then looked at before the rest of the region moves.
 */
async function deployHeld(build: string, body: Record<string, unknown> = {}): Promise<string> {
  const id = await deploy({ build, ...body });
  await coordinator.handle.deploys.control('pause', id, { by: 'test' });
  await eventually(async () => (await deployment(id)).waves[0]!.status === 'CONVERGED', 40_000, `the canary wave of ${id} to converge`);
  return id;
}

beforeAll(async () => {
  fleet = await TestFleet.start(regions);
  coordinator = await startTestCoordinator('mysql', {
    env: {
      ...fleet.coordinatorEnv(),
      FLEETCAST_DEPLOY_WAVES: 'all',
      // The service's own setting (true) overrides this one.
      FLEETCAST_DEPLOY_AUTO_ROLLBACK: 'false',
    },
  });
  const added = await coordinator.request('POST', '/v1/services', { body: serviceBody('api', { runCommand: 'sh ./api', wavePlan: 'eu:25%;eu;us', autoRollback: true }) });
  expect(added.status, added.text).toBe(201);
  expect(added.json).toMatchObject({ wavePlan: 'eu:25%;eu;us', autoRollback: true });
  const env = { FLEETCAST_AGENT_SERVICES: 'api', FLEETCAST_AGENT_HEALTH_GRACE: '3s' };
  for (const machine of [canaryMachine, ...others]) agents.push(await fleet.startAgent('eu', machine, { env }));
  agents.push(await fleet.startAgent('us', 'us-1', { env }));
}, 120_000);

afterAll(async () => {
  await coordinator?.stop();
  await fleet?.stop();
}, 60_000);

it('refuses a share plan that makes no sense, in words, before anything is written', async () => {
  const build = await agentBuild(serviceScript);
  for (const [waves, message] of [
    [[['eu:25%'], ['eu:10%']], /the shares of eu must grow from wave to wave \(25% then 10%\)/],
    [[['eu:100%']], /write eu alone for the whole region/],
    [[['eu'], ['eu:5%']], /names region eu twice/],
  ] as const) {
    const reply = await coordinator.request('POST', '/v1/deployments', { body: { build, waves } });
    expect(reply.status, reply.text).toBe(400);
    expect(reply.json.error).toMatchObject({ code: 'INVALID_INPUT', message: expect.stringMatching(message) });
  }
  const badPlan = await coordinator.request('POST', '/v1/services', { body: serviceBody('web', { wavePlan: 'eu:0%;eu' }) });
  expect(badPlan.status).toBe(400);
  expect(badPlan.json.error.message).toMatch(/more than 0 % and less than 100 %/);
  const unknownRegion = await coordinator.request('POST', '/v1/services', { body: serviceBody('web', { wavePlan: 'mars:5%;eu' }) });
  expect(unknownRegion.status).toBe(400);
  expect(unknownRegion.json.error.message).toMatch(/the wave plan of service web names region mars, which is not configured: the regions are eu, us/);
  // The CLI: a service's own plan and auto-rollback setting.
  const added = await runCli(['service', 'add', 'web', '--repo', '/srv/git/web', '--build', 'make', '--artifact', 'out/web', '--waves', 'eu:5%;eu', '--auto-rollback', 'off', '--json'], coordinator.env);
  expect(added.code, added.stderr).toBe(0);
  expect(onlyJson(added)).toMatchObject({ name: 'web', wavePlan: 'eu:5%;eu', autoRollback: false });
  expect((await coordinator.handle.deploys.status('web')).deployWaves).toEqual([['eu:5%'], ['eu'], ['us']]);
  expect((await fleet.writer.get('api', 'eu'))).toBeNull();
});

it('a 25 % canary of a region of 4 agents runs on exactly one machine, the same one on the next deploy; the next waves move the rest', async () => {
  const first = await agentBuild(serviceScript);
  // Everywhere at once: the fleet's starting point.
  const start = await deploy({ build: first, regions });
  await everyAgentRuns(first);
  await eventually(async () => (await deployment(start)).status === 'CONVERGED', 20_000, `${start} to converge`);
  let before = first;

  for (const [round, body] of [
    [1, {}], // the service's own plan: eu:25%;eu;us
    [2, { waves: [['eu:25%'], ['eu'], ['us']] }], // the same, asked for explicitly
  ] as const) {
    const build = await agentBuild(serviceScript);
    const id = await deployHeld(build, body);
    const held = await deployment(id);
    expect(held, `round ${round}`).toMatchObject({
      status: 'PAUSED',
      waves: [
        { regions: ['eu'], shares: { eu: 25 }, status: 'CONVERGED' },
        { regions: ['eu'], status: 'PENDING' },
        { regions: ['us'], status: 'PENDING' },
      ],
    });
    // The goal carries the share, signed; one goal key for the region, not one per machine.
    const goal = (await fleet.writer.get('api', 'eu'))!.goal;
    expect(goal).toMatchObject({ v: 3, build, canary: { share: 25 } });
    // Exactly the canary machine runs it; the three others still run what they ran.
    expect(ranBuild(build)).toEqual([canaryMachine]);
    for (const agent of eu()) expect(agent.current('api'), agent.machine).toBe(`builds/${agent.machine === canaryMachine ? build : before}`);
    // The wave is judged on the machines in the share: 1 of 1 running.
    const progress = (await coordinator.request('GET', `/v1/deployments/${id}/progress`)).json;
    expect(progress.progress.find((p: { region: string }) => p.region === 'eu')).toMatchObject({ goalShare: 25, machines: 1, running: 1, converged: true });
    // Meanwhile the machines outside the share fetch the canary's build into their caches (verified, not run).
    const outside = eu().filter((a) => a.machine !== canaryMachine);
    await eventually(() => outside.every((a) => fs.existsSync(path.join(a.serviceDir('api'), 'builds', build, '.verified'))), 30_000, 'the machines outside the share to cache the build');
    const readsBefore = outside.map((a) => a.reads.filter((r) => r.name === goal.artifact).length);
    expect(readsBefore.every((n) => n > 0)).toBe(true);

    await coordinator.handle.deploys.control('resume', id, { by: 'test' });
    await everyAgentRuns(build);
    // The wave that takes the whole region switched them from their caches: no byte more from the bucket.
    expect(outside.map((a) => a.reads.filter((r) => r.name === goal.artifact).length)).toEqual(readsBefore);
    const done = await eventually(async () => {
      const d = await deployment(id);
      return d.status === 'CONVERGED' && d;
    }, 40_000, `${id} to converge`);
    expect(done.waves.map((w) => w.status)).toEqual(['CONVERGED', 'CONVERGED', 'CONVERGED']);
    const whole = (await fleet.writer.get('api', 'eu'))!.goal;
    expect(whole.v).toBe(2);
    expect(whole.canary).toBeUndefined();
    expect(whole.seq).toBeGreaterThan(goal.seq);
    before = build;
  }
}, 180_000);

it("a dying build in the canary share reaches only the canary machine and is rolled back (the service's own auto-rollback over the global off)", async () => {
  const good = (await fleet.writer.get('api', 'eu'))!.goal.build;
  const dying = await agentBuild(`#!/bin/sh\necho "$FLEETCAST_BUILD_ID $FLEETCAST_MACHINE $$" >> ../../runs.log\nsleep 1\nexit 3\n`);
  const id = await deploy({ build: dying });
  const failed = await eventually(async () => {
    const d = await deployment(id);
    return /^d\d+$/.test(d.rollback ?? '') && d;
  }, 60_000, `${id} to fail and be rolled back`);
  expect(failed).toMatchObject({ status: 'FAILED', waves: [{ shares: { eu: 25 }, status: 'FAILED' }, { status: 'SKIPPED' }, { status: 'SKIPPED' }] });
  expect(failed.error).toMatch(new RegExp(`^wave 1 \\(eu\\) failed: .*${canaryMachine}.*rolled back automatically: eu back on ${good}`));
  await everyAgentRuns(good);
  expect(ranBuild(dying)).toEqual([canaryMachine]);
  const rollbackGoal = (await fleet.writer.get('api', 'eu'))!.goal;
  expect(rollbackGoal).toMatchObject({ kind: 'rollback', build: good, v: 2 });
  expect(rollbackGoal.canary).toBeUndefined();
}, 120_000);
