// Following rollouts and honest status with real agents (in this process, on their own agent
// dirs and NATS connections, fetching from their regional bucket) and a real coordinator on
// MariaDB and a private NATS hub with two leaves. A second client with a read token follows a
// deploy someone else started (`deployment show D --follow`, text and JSON lines) and sees
// every region converge and the end — also across a coordinator restart. `status --watch` and
// `status` count per region the machines running the goal, holding it in cache, failed on it
// (a build whose health fails on one machine) and silent (a stopped agent), with the digest
// the running ones report.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConvergenceJson, DeploymentProgressJson, ServiceStatusJson } from '../api-contract/index.ts';
import { serviceScript, TestFleet, type TestAgent } from './support/agent-fleet.ts';
import { storeArtifact } from './support/agent-artifacts.ts';
import { runCli, startCli } from './support/cli.ts';
import { serviceBody, startTestCoordinator, type TestCoordinator } from './support/coordinator.ts';
import { deployableBuild } from './support/deployable-build.ts';
import { eventually } from './support/eventually.ts';

const regions = ['eu', 'us'];
const readToken = 'follower-token-0123456789abcdef';
let fleet: TestFleet;
let coordinator: TestCoordinator;
const agents: Record<string, TestAgent> = {};
/** The CLI as a read-only follower: not the token that deploys. */
const followerEnv = () => ({ ...coordinator.env, FLEETCAST_API_TOKEN: readToken });
/** Followers last a whole rollout: more than the CLI helper's default 30 s on a loaded machine. */
const follow = (args: string[]) => startCli(args, followerEnv(), { timeoutMs: 100_000 });

/** A build whose process dies half a second after it starts on `machine` (its health fails there), and runs elsewhere. */
const failsOn = (machine: string) => `#!/bin/sh\necho "$FLEETCAST_BUILD_ID $FLEETCAST_MACHINE $$" >> ../../runs.log\nif [ "$FLEETCAST_MACHINE" = ${machine} ]; then sleep 0.5; exit 3; fi\nexec sleep 600\n`;

async function agentBuild(script: string): Promise<{ id: string; digest: string }> {
  let digest = '';
  const build = await deployableBuild(coordinator.handle, 'api', regions, [], async (n) => {
    const stored = await storeArtifact(await Promise.all(regions.map((r) => fleet.bucket(r))), 'api', n, 20_000, script);
    digest = stored.digest;
    return { digest: stored.digest, size: stored.bytes.length };
  });
  return { id: `b${build.id}`, digest };
}

/** Deployed by the admin token, as someone else than the follower would. */
async function deploy(build: string): Promise<string> {
  const reply = await coordinator.request('POST', '/v1/deployments', { body: { build } });
  expect(reply.status, reply.text).toBe(201);
  return reply.json.id as string;
}

const jsonLines = <T>(stdout: string): T[] =>
  stdout
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as T);

const region = (status: ServiceStatusJson, name: string): ConvergenceJson => status.regions.find((r) => r.region === name)!.convergence;

beforeAll(async () => {
  fleet = await TestFleet.start(regions);
  const permissions = path.join(fleet.dataDir, 'permissions.json');
  fs.writeFileSync(permissions, JSON.stringify({ tokens: [{ name: 'follower', token: readToken, scopes: ['read'] }] }));
  coordinator = await startTestCoordinator('mysql', {
    env: {
      ...fleet.coordinatorEnv(),
      FLEETCAST_DEPLOY_WAVES: 'canary',
      // One of the two us machines may fail without halting the rollout: its status stays to be counted.
      FLEETCAST_WAVE_MAX_FAILED: '0.5',
      FLEETCAST_STATUS_SILENT_AFTER: '4s',
      FLEETCAST_PERMISSIONS: permissions,
    },
  });
  expect((await coordinator.request('POST', '/v1/services', { body: serviceBody('api', { runCommand: 'sh ./api' }) })).status).toBe(201);
  const env = { FLEETCAST_AGENT_SERVICES: 'api', FLEETCAST_AGENT_HEALTH_GRACE: '2s' };
  for (const [r, machine] of [['eu', 'eu-1'], ['us', 'us-1'], ['us', 'us-2']] as const) {
    // us-2 tries a failed build again only after a long pause: it stays failed while the test looks.
    const overrides = machine === 'us-2' ? { retry: { minMs: 120_000, maxMs: 120_000 } } : {};
    agents[machine] = await fleet.startAgent(r, machine, { env, overrides });
  }
}, 120_000);

afterAll(async () => {
  await coordinator?.stop();
  await fleet?.stop();
}, 60_000);

describe('following a rollout someone else started', () => {
  it('shows every region converge and ends with the final state, exit 0; as text and as JSON lines; a late follower gets the end at once', async () => {
    const { id: build } = await agentBuild(serviceScript);
    const id = await deploy(build);
    const lines = follow(['deployment', 'show', id, '--follow', '--json']);
    const text = follow(['deployment', 'show', id, '--follow']);

    const [json, shown] = [await lines.done, await text.done];
    expect(json.code, json.stderr).toBe(0);
    const messages = jsonLines<DeploymentProgressJson & { type: string }>(json.stdout);
    expect(messages.every((m) => m.type === 'deployment' && m.deployment.id === id)).toBe(true);
    // Every region seen converged, and the end: the last message and only it is final.
    for (const name of regions) expect(messages.some((m) => m.progress.some((p) => p.region === name && p.converged && p.machines > 0 && p.running === p.machines))).toBe(true);
    expect(messages.filter((m) => m.final)).toHaveLength(1);
    expect(messages.at(-1)).toMatchObject({ final: true, deployment: { status: 'CONVERGED', waves: [{ status: 'CONVERGED' }, { status: 'CONVERGED' }] } });

    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout).toMatch(/eu\s+wave 1 CONVERGED\s+1\/1 running/);
    expect(shown.stdout).toMatch(/us\s+wave 2 CONVERGED\s+2\/2 running/);
    expect(shown.stdout).toContain(`${id}: api ${build} converged in eu, us`);

    const late = await runCli(['deployment', 'show', id, '--follow', '--json'], followerEnv());
    expect(late.code, late.stderr).toBe(0);
    expect(jsonLines<DeploymentProgressJson>(late.stdout)).toMatchObject([{ final: true, deployment: { status: 'CONVERGED' } }]);
  }, 180_000);

  it('keeps following across a coordinator restart and still sees the end', async () => {
    const { id: build } = await agentBuild(serviceScript);
    const id = await deploy(build);
    // Paused: the rollout cannot end before the coordinator restarts.
    expect((await coordinator.request('POST', `/v1/deployments/${id}/pause`, { body: { reason: 'restart test' } })).status).toBe(200);
    const follower = follow(['deployment', 'show', id, '--follow', '--json']);
    await eventually(() => follower.output().stdout.includes('"status":"PAUSED"'), 60_000, 'the follower to see the paused deployment');
    await coordinator.restart();
    expect(follower.output().stdout).not.toContain('"final":true');
    // Still held by the pause after the restart (its record says why if not).
    const held = (await coordinator.request('GET', `/v1/deployments/${id}`)).json;
    expect(held.status, JSON.stringify(held)).toBe('PAUSED');
    const resumed = await coordinator.request('POST', `/v1/deployments/${id}/resume`, { body: {} });
    expect(resumed.status, resumed.text).toBe(200);
    const run = await follower.done;
    expect(run.code, run.stderr).toBe(0);
    expect(jsonLines<DeploymentProgressJson>(run.stdout).at(-1)).toMatchObject({ final: true, deployment: { id, status: 'CONVERGED' } });
  }, 180_000);
});

describe('per region status', () => {
  it('counts machines running the goal, holding it, failed on it and silent, with the digest they report; status --watch shows each change', async () => {
    const watch = follow(['status', 'api', '--watch', '--json']);
    // Watching before the deploy: its first document comes at once on subscription.
    await eventually(() => watch.output().stdout.includes('\n'), 60_000, 'the watcher to print the status');
    const { id: build, digest } = await agentBuild(failsOn('us-2'));
    const id = await deploy(build);

    // us-1 runs it; us-2's health fails (it goes back to the build before and reports failed).
    const settled = await eventually(async () => {
      const status = (await coordinator.request('GET', '/v1/services/api/status', { token: readToken })).json as ServiceStatusJson;
      const us = region(status, 'us');
      return us.goalBuild === build && us.running === 1 && us.failed.machines === 1 && status;
    }, 40_000, 'us-1 running and us-2 failed');
    expect(region(settled, 'eu')).toMatchObject({ goalBuild: build, running: 1, holding: 0, failed: { machines: 0 }, silent: 0 });
    expect(region(settled, 'us')).toMatchObject({ machines: 2, running: 1, holding: 0, failed: { machines: 1, examples: [{ machine: 'us-2' }] }, silent: 0, goalDigest: digest });
    // The digest the running machines report, by build (us-2 reports its failure, not a build it runs).
    expect(region(settled, 'us').runningDigests).toEqual([{ build, digest, machines: 1 }]);
    // The agents say what their caches hold: us-2 keeps the build it failed on (verified) for its next try.
    await fleet.reportOf('us', 'api', 'us-2', (r) => r.state === 'failed' && r.build === build && r.cached.includes(build));

    const text = await runCli(['status', 'api'], followerEnv());
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/REGION\s+GOAL\s+DEPLOYMENT\s+BY\s+RUNNING\s+HOLDING\s+FAILED\s+SILENT\s+DIGEST\s+NOTES/);
    expect(text.stdout).toMatch(new RegExp(`us\\s+${build} \\(seq \\d+\\)\\s+${id}\\s+deploy by \\S+\\s+1/2\\s+0\\s+1\\s+0\\s+${digest.slice(0, 12)} = goal\\s+failed e\\.g\\. us-2: `));

    // us-1's agent stops: silent once its last report is older than FLEETCAST_STATUS_SILENT_AFTER.
    await agents['us-1']!.stop();
    const silent = await eventually(async () => {
      const status = (await coordinator.request('GET', '/v1/services/api/status', { token: readToken })).json as ServiceStatusJson;
      const us = region(status, 'us');
      return us.silent === 1 && us.failed.machines === 1 && status;
    }, 20_000, 'us-1 silent');
    expect(region(silent, 'us')).toMatchObject({ machines: 2, running: 0, silent: 1, failed: { machines: 1 } });

    // The watcher saw it all as it happened, each line a status document: the canary switching
    // (holding the build it verified, under its health check), then running, us-2 failed, us-1 silent.
    await eventually(() => jsonLines<ServiceStatusJson>(watch.output().stdout).some((s) => region(s, 'us').silent === 1), 10_000, 'the watcher to see us-1 silent');
    watch.kill('SIGINT');
    const watched = await watch.done;
    expect(watched.code, watched.stderr).toBe(0);
    const seen = jsonLines<ServiceStatusJson>(watched.stdout);
    expect(seen.every((s) => s.service === 'api')).toBe(true);
    expect(seen.some((s) => region(s, 'eu').goalBuild === build && region(s, 'eu').holding === 1 && region(s, 'eu').running === 0)).toBe(true);
    expect(seen.some((s) => region(s, 'eu').goalBuild === build && region(s, 'eu').running === 1)).toBe(true);
    expect(seen.some((s) => region(s, 'us').goalBuild === build && region(s, 'us').failed.machines === 1)).toBe(true);
    // A read token never sees the build's P2P key.
    expect(seen.every((s) => s.regions.every((r) => r.goal === null || r.goal.p2pKey === null))).toBe(true);
  }, 180_000);
});
