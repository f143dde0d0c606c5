// Deploys, rollbacks and locks through the real coordinator (MariaDB) and a real NATS hub with
// three regional leaves: goals reach each region's mirror; every refusal has its code, message
// and exit code 3; concurrent deploys of one service do not interleave; audit rows are written.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selectAudit } from '../coordinator/index.ts';
import { coreKey, RegionGoalView } from '../goalstate/index.ts';
import { eventually } from './support/eventually.ts';
import { onlyJson, runCli } from './support/cli.ts';
import { serviceBody, startTestCoordinator, type TestCoordinator } from './support/coordinator.ts';
import { deployableBuild } from './support/deployable-build.ts';
import { TestNatsCluster } from './support/nats-cluster.ts';

const regions = ['eu', 'us', 'ap'];
const readToken = 'read-only-token-0123456789abcdef';
let cluster: TestNatsCluster;
let coordinator: TestCoordinator;
const views: Record<string, RegionGoalView> = {};

beforeAll(async () => {
  cluster = await TestNatsCluster.start(regions);
  const permissions = path.join(cluster.dir, 'permissions.json');
  fs.writeFileSync(permissions, JSON.stringify({ tokens: [{ name: 'dashboard', token: readToken, scopes: ['read'] }] }));
  coordinator = await startTestCoordinator('mysql', {
    env: {
      FLEETCAST_NATS_URL: cluster.urls.hub,
      FLEETCAST_REGIONS: regions.join(','),
      FLEETCAST_REPLICATION_CONCURRENCY: '0',
      FLEETCAST_AUDIT_EVERY: '7d',
      FLEETCAST_PERMISSIONS: permissions,
    },
  });
  for (const name of ['api', 'shop', 'web', 'race', 'keyed']) expect((await coordinator.request('POST', '/v1/services', { body: serviceBody(name) })).status).toBe(201);
  for (const region of regions) views[region] = await RegionGoalView.connect({ url: cluster.urls.agents[region]!, region, keyring: coordinator.keys!.keyring, connect: { timeoutMs: 2_000 } });
}, 120_000);

afterAll(async () => {
  for (const view of Object.values(views)) await view.close();
  await coordinator?.stop();
  await cluster?.stop();
});

const cli = (args: string[], env: Record<string, string> = {}) => runCli([...args, '--json'], { ...coordinator.env, ...env });
const goalIn = (region: string, service: string) => views[region]!.get(service);

describe('deploy', () => {
  it('writes the goal of every region, canary first; each region reads it from its own mirror; --wait follows it to convergence', async () => {
    const build = await deployableBuild(coordinator.handle, 'api', regions);
    const run = await cli(['deploy', `b${build.id}`, '--reason', 'first release', '--wait']);
    expect(run.code, run.stderr).toBe(0);
    const { deployment, progress, final } = onlyJson(run);
    expect(final).toBe(true);
    expect(deployment).toMatchObject({ id: expect.stringMatching(/^d\d+$/), service: 'api', build: `b${build.id}`, regions, kind: 'deploy', requestedBy: 'local-admin', reason: 'first release', status: 'CONVERGED', spooled: false, convergedAt: expect.any(String) });
    // The default plan: the first region alone, the others once it converged (no agents here: at once).
    expect(deployment.waves.map((w: { regions: string[]; status: string }) => [w.regions, w.status])).toEqual([[['eu'], 'CONVERGED'], [['us', 'ap'], 'CONVERGED']]);
    expect(Date.parse(deployment.waves[1].writtenAt)).toBeGreaterThanOrEqual(Date.parse(deployment.waves[0].doneAt));
    expect(progress.map((p: { region: string; converged: boolean; machines: number; known: boolean }) => [p.region, p.converged, p.machines, p.known])).toEqual(regions.map((r) => [r, true, 0, true]));
    // Progress went to stderr, the one JSON document to stdout.
    expect(run.stderr).toContain(`${deployment.id} `);
    for (const region of regions) {
      const goal = await eventually(async () => (await goalIn(region, 'api'))?.goal.deployment === deployment.id && (await goalIn(region, 'api')), 10_000, `the goal in ${region}`);
      expect(goal && goal.goal).toMatchObject({ build: `b${build.id}`, digest: build.digest, size: 1234, artifact: `artifacts/api/b${build.id}/${build.digest}`, p2pKey: coreKey(fs.readFileSync(path.join(coordinator.dataDir, 'secret'), 'utf8').trim(), build.digest!), fileName: 'api', runCommand: null, kind: 'deploy', by: 'local-admin', region });
    }
    const status = onlyJson(await cli(['status', 'api']));
    expect(status.regions.map((r: { goal: { build: string } }) => r.goal.build)).toEqual(regions.map(() => `b${build.id}`));
    expect(status.lock).toBeNull();
    const audit = await selectAudit(coordinator.handle.db, 'api');
    expect(audit.filter((row) => row.action === 'deploy').at(-1)).toMatchObject({ actor: 'local-admin', result: 'ok' });
    // Each signed goal written, the later wave's by the wave runner included, is audited with its sequence.
    const writes = audit.filter((row) => row.action === 'goal-write').map((row) => JSON.parse(String(row.detail)));
    expect(writes.map((w) => w.region)).toEqual(regions);
    for (const write of writes) expect(write).toMatchObject({ deployment: deployment.id, build: `b${build.id}`, seq: deployment.waves.find((w: { regions: string[] }) => w.regions.includes(write.region)).goals[write.region].seq });
  });

  it('refuses a build missing from a region (exit 3, the region named) and writes nothing', async () => {
    const good = await deployableBuild(coordinator.handle, 'shop', regions);
    expect((await cli(['deploy', `b${good.id}`])).code).toBe(0);
    const partial = await deployableBuild(coordinator.handle, 'shop', regions, ['ap']);
    const run = await cli(['deploy', `b${partial.id}`]);
    expect(run.code).toBe(3);
    const { error } = onlyJson(run);
    expect(error).toMatchObject({ code: 'NOT_DEPLOYABLE', details: { missingRegions: ['ap'] } });
    expect(error.message).toContain(`b${partial.id} is not deployable to ap`);
    const text = await runCli(['deploy', `b${partial.id}`], coordinator.env);
    expect(text.code).toBe(3);
    expect(text.stderr).toContain('not deployable to ap');
    for (const region of regions) expect((await goalIn(region, 'shop'))?.goal.build).toBe(`b${good.id}`);
    // The regions that hold it may still be deployed to on their own.
    const some = await cli(['deploy', `b${partial.id}`, '--regions', 'eu,us']);
    expect(some.code, some.stdout).toBe(0);
    expect(onlyJson(some).regions).toEqual(['eu', 'us']);
    const audit = await selectAudit(coordinator.handle.db, 'shop');
    expect(audit.filter((row) => row.result === 'refused').length).toBe(2);
  });

  it('refuses a deploy to a locked service, saying who locked it and why', async () => {
    const build = await deployableBuild(coordinator.handle, 'web', regions);
    const locked = await cli(['lock', 'web', '--reason', 'incident 42']);
    expect(locked.code, locked.stdout).toBe(0);
    expect(onlyJson(locked)).toMatchObject({ service: 'web', lockedBy: 'local-admin', reason: 'incident 42' });
    const run = await cli(['deploy', `b${build.id}`]);
    expect(run.code).toBe(3);
    const { error } = onlyJson(run);
    expect(error.code).toBe('LOCKED');
    expect(error.message).toMatch(/locked by local-admin since .* \(incident 42\).*fleetcast unlock web/);
    for (const region of regions) expect(await goalIn(region, 'web')).toBeNull();
    expect((await cli(['unlock', 'web'])).code).toBe(0);
    const again = await cli(['unlock', 'web']);
    expect(again.code).toBe(1);
    expect(onlyJson(again).error).toMatchObject({ code: 'NOT_FOUND', message: expect.stringContaining('web is not locked') });
    expect((await cli(['deploy', `b${build.id}`])).code).toBe(0);
  });

  it('refuses a read-only token (FORBIDDEN, exit 3)', async () => {
    const build = await deployableBuild(coordinator.handle, 'web', regions);
    const run = await cli(['deploy', `b${build.id}`], { FLEETCAST_API_TOKEN: readToken });
    expect(run.code).toBe(3);
    expect(onlyJson(run).error.code).toBe('FORBIDDEN');
    expect((await selectAudit(coordinator.handle.db, '/v1/deployments')).at(-1)).toMatchObject({ actor: 'dashboard', action: 'deploy', result: 'refused' });
    expect((await cli(['status', 'web'], { FLEETCAST_API_TOKEN: readToken })).code).toBe(0);
  });

  it('a read-only token does not see the P2P key of a goal (it would find the region swarm with it); a deploy token does', async () => {
    const build = await deployableBuild(coordinator.handle, 'keyed', regions);
    expect((await cli(['deploy', `b${build.id}`])).code).toBe(0);
    const asReader = onlyJson(await cli(['status', 'keyed', '--json'], { FLEETCAST_API_TOKEN: readToken }));
    const asAdmin = onlyJson(await cli(['status', 'keyed', '--json']));
    for (const region of regions) {
      expect(asAdmin.regions.find((r: { region: string }) => r.region === region).goal.p2pKey).toMatch(/^[0-9a-f]{64}$/);
      expect(asReader.regions.find((r: { region: string }) => r.region === region).goal).toMatchObject({ build: `b${build.id}`, p2pKey: null });
    }
    expect(JSON.stringify(asReader)).not.toContain(asAdmin.regions[0].goal.p2pKey);
  });

  it('serializes concurrent deploys of one service: every region ends on the same deployment', async () => {
    const builds = [];
    for (let i = 0; i < 4; i++) builds.push(await deployableBuild(coordinator.handle, 'race', regions));
    const replies = await Promise.all(builds.map((b) => coordinator.request('POST', '/v1/deployments', { body: { build: `b${b.id}` } })));
    for (const reply of replies) {
      if (reply.status !== 201) expect(reply.json.error.code).toBe('GOAL_CONFLICT');
    }
    expect(replies.some((reply) => reply.status === 201)).toBe(true);
    // Each deploy supersedes the rollout before it: the newest one's waves reach every region.
    const list = (await coordinator.request('GET', '/v1/deployments?service=race')).json.deployments;
    await eventually(async () => (await coordinator.handle.deploys.get(list[0].id)).status === 'CONVERGED', 10_000, 'the newest deployment to converge');
    const finals = (await coordinator.handle.deploys.status('race')).regions.map((r) => r.goal!.deployment);
    expect(finals).toEqual(regions.map(() => list[0].id));
    const after = (await coordinator.request('GET', '/v1/deployments?service=race')).json.deployments;
    for (const older of after.slice(1)) expect(['SUPERSEDED', 'FAILED', 'CONVERGED']).toContain(older.status);
    expect(after.filter((d: { status: string }) => d.status === 'ROLLING')).toEqual([]);
  });
});

describe('rollback', () => {
  it('returns to the previous deployed build and locks the service until unlocked', async () => {
    const first = await deployableBuild(coordinator.handle, 'api', regions);
    const second = await deployableBuild(coordinator.handle, 'api', regions);
    expect((await cli(['deploy', `b${first.id}`, '--wait'])).code).toBe(0);
    expect((await cli(['deploy', `b${second.id}`, '--wait'])).code).toBe(0);
    const run = await cli(['rollback', 'api']);
    expect(run.code, run.stdout).toBe(0);
    const deployment = onlyJson(run);
    expect(deployment).toMatchObject({ kind: 'rollback', build: `b${first.id}`, regions, status: 'ROLLING' });
    for (const region of regions) {
      await eventually(async () => (await goalIn(region, 'api'))?.goal.deployment === deployment.id, 10_000, `the rollback in ${region}`);
      expect((await goalIn(region, 'api'))!.goal).toMatchObject({ build: `b${first.id}`, kind: 'rollback' });
    }
    const status = onlyJson(await cli(['status', 'api']));
    expect(status.lock).toMatchObject({ lockedBy: 'local-admin', reason: 'rolled back by local-admin' });
    const refused = await cli(['deploy', `b${second.id}`]);
    expect(refused.code).toBe(3);
    expect(onlyJson(refused).error.message).toContain('rolled back by local-admin');
    // --to names the build; a rollback of a locked service is allowed (on-call during an incident).
    const to = onlyJson(await cli(['rollback', 'api', '--to', `b${second.id}`, '--regions', 'eu']));
    expect(to).toMatchObject({ build: `b${second.id}`, regions: ['eu'] });
    expect((await cli(['unlock', 'api'])).code).toBe(0);
    const audit = await selectAudit(coordinator.handle.db, 'api');
    expect(audit.filter((row) => row.action === 'rollback' && row.result === 'ok').length).toBe(2);
  });

  it('with nothing earlier to return to says so', async () => {
    // web was deployed once only (the read-only token's deploy was refused).
    const run = await cli(['rollback', 'web', '--regions', 'us']);
    expect(run.code).toBe(1);
    expect(onlyJson(run).error).toMatchObject({ code: 'NOT_FOUND', message: expect.stringContaining('no earlier deployed build of web') });
    const none = await cli(['rollback', 'race', '--to', 'b999999']);
    expect(none.code).toBe(1);
    expect(onlyJson(none).error.code).toBe('NOT_FOUND');
  });
});

describe('a coordinator without a goal-signing key', () => {
  it('refuses every deploy and rollback with CONFIG_INVALID naming FLEETCAST_GOAL_SIGNING_KEY, records and writes nothing; status shows the goals it cannot vouch for', async () => {
    const unsigned = await startTestCoordinator('sqlite', {
      env: { FLEETCAST_NATS_URL: cluster.urls.hub, FLEETCAST_REGIONS: regions.join(','), FLEETCAST_REPLICATION_CONCURRENCY: '0', FLEETCAST_AUDIT_EVERY: '7d', FLEETCAST_GOAL_SIGNING_KEY: '' },
    });
    try {
      for (const name of ['nokey', 'api']) expect((await unsigned.request('POST', '/v1/services', { body: serviceBody(name) })).status).toBe(201);
      const build = await deployableBuild(unsigned.handle, 'nokey', regions);
      const run = await runCli(['deploy', `b${build.id}`, '--json'], unsigned.env);
      expect(run.code).toBe(2);
      expect(onlyJson(run).error).toMatchObject({ code: 'CONFIG_INVALID', message: expect.stringContaining('FLEETCAST_GOAL_SIGNING_KEY is not set') });
      expect((await unsigned.request('GET', '/v1/deployments?service=nokey')).json.deployments).toEqual([]);
      expect(await goalIn('eu', 'nokey')).toBeNull();
      expect((await runCli(['rollback', 'nokey', '--to', `b${build.id}`, '--json'], unsigned.env)).code).toBe(2);
      // Without any trusted key it cannot verify the goals the other coordinator signed: it says so rather than showing them.
      const status = (await unsigned.request('GET', '/v1/services/api/status')).json;
      expect(status.regions[0]).toMatchObject({ goal: null, goalError: { code: 'GOAL_SIGNATURE_INVALID', message: expect.stringContaining('trusts no goal-signing key') } });
    } finally {
      await unsigned.stop();
    }
  });
});
