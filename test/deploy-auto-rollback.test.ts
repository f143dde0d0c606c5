// Automatic rollback of a failed wave with real agents (in this process, on their own agent dirs
// and NATS connections, fetching from their regional bucket) and a real coordinator on a private
// MariaDB: the canary machines run a build that dies, the deployment ends FAILED (the alert metric
// counts it), the canary goes back to the build it ran before straight from the agents' caches
// (no byte read from the bucket), and the service is locked with the reason. Then again with
// MariaDB killed -9 while the canary fails: the rollback comes from the goal history and the
// records reach SQL once it is back.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { artifactObjectName } from '../blobstore/index.ts';
import type { StatusReport } from '../goalstate/index.ts';
import { isPlaceholderDeploymentId, selectAudit } from '../coordinator/index.ts';
import { serviceScript, TestFleet, type TestAgent } from './support/agent-fleet.ts';
import { storeArtifact } from './support/agent-artifacts.ts';
import { serviceBody, startTestCoordinator, type TestCoordinator } from './support/coordinator.ts';
import { deployableBuild } from './support/deployable-build.ts';
import { eventually } from './support/eventually.ts';
import { PrivateMariaDb } from './support/private-mariadb.ts';

const regions = ['eu', 'us'];
let fleet: TestFleet;
let server: PrivateMariaDb;
let coordinator: TestCoordinator;
let databaseDown = false;
const agents: TestAgent[] = [];
const canary = () => agents.filter((a) => a.region === 'eu');

/** A build that starts, records its start, and dies after `dieAfter` seconds (within the health grace). */
const dyingScript = (dieAfter: number) => `#!/bin/sh\necho "$FLEETCAST_BUILD_ID $FLEETCAST_MACHINE $$" >> ../../runs.log\nsleep ${dieAfter}\nexit 3\n`;

async function agentBuild(script: string): Promise<string> {
  const build = await deployableBuild(coordinator.handle, 'api', regions, [], async (id) => {
    const stored = await storeArtifact(await Promise.all(regions.map((r) => fleet.bucket(r))), 'api', id, 50_000, script);
    expect(artifactObjectName('api', id, stored.digest)).toContain(`b${id}`);
    return { digest: stored.digest, size: stored.bytes.length };
  });
  return `b${build.id}`;
}

const deploy = async (build: string) => {
  const reply = await coordinator.request('POST', '/v1/deployments', { body: { build } });
  expect(reply.status, reply.text).toBe(201);
  return reply.json.id as string;
};
const deployment = (id: string) => coordinator.handle.deploys.get(id);
const running = (build: string) => (r: StatusReport) => r.state === 'running' && r.build === build;
const everyAgentRuns = async (build: string, which = agents) => {
  for (const agent of which) await fleet.reportOf(agent.region, 'api', agent.machine, running(build), 30_000);
};
const metric = async (status: string) => {
  const text = await (await fetch(`${coordinator.url}/metrics`)).text();
  return Number(new RegExp(`^fleetcast_deployments\\{status="${status}"\\} (\\d+)`, 'm').exec(text)?.[1] ?? NaN);
};

beforeAll(async () => {
  fleet = await TestFleet.start(regions);
  server = await PrivateMariaDb.start();
  coordinator = await startTestCoordinator('mysql', {
    env: {
      FLEETCAST_DATABASE_URL: server.url,
      ...fleet.coordinatorEnv(),
      FLEETCAST_DEPLOY_WAVES: 'canary',
    },
    overrides: { spoolFlushMs: 300 },
  });
  expect((await coordinator.request('POST', '/v1/services', { body: serviceBody('api', { runCommand: 'sh ./api' }) })).status).toBe(201);
  // A health grace longer than the dying builds live: they fail a few seconds after their switch.
  const env = { FLEETCAST_AGENT_SERVICES: 'api', FLEETCAST_AGENT_HEALTH_GRACE: '6s' };
  for (const [region, machine] of [['eu', 'eu-1'], ['eu', 'eu-2'], ['us', 'us-1']] as const) agents.push(await fleet.startAgent(region, machine, { env }));
}, 120_000);

afterAll(async () => {
  if (databaseDown) await server.startServer();
  await coordinator?.stop();
  await fleet?.stop();
  await server?.destroy();
}, 60_000);

it('a failed canary ends FAILED, counted by the alert metric, and is rolled back automatically from the caches: no byte moved, the service locked with the reason', async () => {
  const good = await agentBuild(serviceScript);
  const first = await deploy(good);
  await everyAgentRuns(good);
  await eventually(async () => (await deployment(first)).status === 'CONVERGED', 20_000, `${first} to converge`);
  const failedBefore = await metric('FAILED');

  const bad = await agentBuild(dyingScript(1));
  const id = await deploy(bad);
  const failed = await eventually(async () => {
    const d = await deployment(id);
    return /^d\d+$/.test(d.rollback ?? '') && d;
  }, 40_000, `${id} to fail and be rolled back`);
  const readsAtFailure = agents.map((a) => a.reads.length);
  expect(failed).toMatchObject({ status: 'FAILED', waves: [{ regions: ['eu'], status: 'FAILED' }, { regions: ['us'], status: 'SKIPPED' }] });
  expect(failed.error).toMatch(new RegExp(`^wave 1 \\(eu\\) failed: .*exited with code 3.*; the later waves were not written; rolled back automatically: eu back on ${good} \\(${failed.rollback}\\); api is locked$`));
  expect(await metric('FAILED')).toBe(failedBefore + 1);

  // The canary runs the build before again, from its cache: nothing was read from the bucket.
  await everyAgentRuns(good, canary());
  const rollback = await eventually(async () => {
    const d = await deployment(failed.rollback!);
    return d.status === 'CONVERGED' && d;
  }, 20_000, 'the rollback to converge');
  expect(rollback).toMatchObject({ kind: 'rollback', build: good, regions: ['eu'], requestedBy: 'fleetcast' });
  expect(agents.map((a) => a.reads.length)).toEqual(readsAtFailure);
  for (const agent of canary()) expect(agent.current('api')).toBe(`builds/${good}`);
  // The later wave's region never ran the bad build.
  expect(agents.find((a) => a.region === 'us')!.runs('api').map((r) => r.build)).not.toContain(bad);
  const status = (await coordinator.request('GET', '/v1/services/api/status')).json;
  expect(status.lock).toMatchObject({ lockedBy: 'fleetcast', reason: expect.stringContaining(`automatic rollback of ${id}: wave 1 (eu) failed`) });
  expect(status.regions.map((r: { goal: { build: string } }) => r.goal.build)).toEqual([good, good]);
  expect((await coordinator.request('DELETE', '/v1/services/api/lock')).status).toBe(200);
}, 120_000);

it('with MariaDB killed -9 while the canary fails: rolled back from the goal history, the records in SQL once it is back', async () => {
  const good = (await coordinator.handle.deploys.status('api')).regions[0]!.goal!.build;
  const bad = await agentBuild(dyingScript(4));
  const id = await deploy(bad);
  // The wave runner has read the rollout (it rounds every 100 ms) before the database goes.
  await new Promise((resolve) => setTimeout(resolve, 500));
  await server.kill9();
  databaseDown = true;

  // The canary runs the bad build, it dies; the runner rolls back without SQL.
  await eventually(async () => (await fleet.writer.get('api', 'eu'))?.goal.kind === 'rollback', 40_000, 'the rollback goal in eu');
  const goal = (await fleet.writer.get('api', 'eu'))!.goal;
  expect(goal).toMatchObject({ build: good, by: 'fleetcast', reason: expect.stringContaining(`automatic rollback of ${id}`) });
  expect(isPlaceholderDeploymentId(goal.deployment)).toBe(true);
  const readsAtFailure = agents.map((a) => a.reads.length);
  for (const agent of canary()) expect(agent.runs('api').map((r) => r.build)).toContain(bad);
  await everyAgentRuns(good, canary());
  await eventually(async () => {
    for (const agent of canary()) if ((await fleet.reportOf('eu', 'api', agent.machine, () => true)).seq !== goal.seq) return false;
    return true;
  }, 20_000, 'the canary to apply the rollback goal');
  expect(agents.map((a) => a.reads.length)).toEqual(readsAtFailure);
  expect((await fleet.writer.get('api', 'us'))!.goal.build).toBe(good);

  await server.startServer();
  databaseDown = false;
  const recorded = await eventually(async () => {
    const d = await deployment(id).catch(() => null);
    return /^d\d+$/.test(d?.rollback ?? '') ? d : undefined;
  }, 30_000, 'the spooled records to reach SQL');
  expect(recorded!).toMatchObject({ status: 'FAILED', waves: [{ status: 'FAILED' }, { status: 'SKIPPED' }] });
  expect(recorded!.error).toMatch(/rolled back automatically: eu back on b\d+/);
  // The placeholder became the rollback's real id.
  expect(isPlaceholderDeploymentId(recorded!.rollback!)).toBe(false);
  expect(await deployment(recorded!.rollback!)).toMatchObject({ kind: 'rollback', build: good, requestedBy: 'fleetcast' });
  const audit = (await selectAudit(coordinator.handle.db, 'api')).filter((row) => row.action === 'rollback' && row.actor === 'fleetcast');
  expect(audit.map((row) => JSON.parse(String(row.detail)))).toContainEqual(expect.objectContaining({ withoutDatabase: true, placeholderDeployment: goal.deployment }));
  expect((await coordinator.request('GET', '/v1/services/api/status')).json.lock).toMatchObject({ lockedBy: 'fleetcast' });
}, 150_000);
