// Waves on SQLite with a fleet the test moves by hand: the canary region first, the rest once
// its machines run the build; halts on failures and timeouts; a new deploy supersedes a rollout;
// convergence is recorded; Idempotency-Key replays; progress() says when it is final.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Database } from '../../entities/index.ts';
import { silentLogger } from '../../logging/index.ts';
import { deployableBuild } from '../../test/support/deployable-build.ts';
import { BuildQueue } from '../../queue/index.ts';
import { ReplicationStatusService } from '../replication/index.ts';
import { ServiceRegistry } from '../../queue/services/index.ts';
import { AuditSpool } from './audit-spool.ts';
import { DeployService, type DeployServiceOptions } from './deploy-service.ts';
import { HandMovedFleet } from '../../test/support/deploy-fakes.ts';
import { defaultWaves } from './waves.ts';
import { inShare } from '../../goalstate/index.ts';

const regions = ['eu', 'us', 'ap'];
let dir: string;
let db: Database;
let queue: BuildQueue;
let fleet: HandMovedFleet;

const open = (options: Partial<DeployServiceOptions> = {}) =>
  new DeployService(db, queue, new ServiceRegistry(db), new ReplicationStatusService(db, regions), {
    regions,
    fleet,
    spool: new AuditSpool(path.join(dir, 'pending-audit'), silentLogger()),
    clusterSecret: 'x'.repeat(64),
    logger: silentLogger(),
    ...options,
  });
const goalBuild = async (region: string) => (await fleet.goalStore.get('api', region))?.goal.build ?? null;
const build = async () => `b${(await deployableBuild({ queue, db }, 'api', regions)).id}`;
/** A build deployed everywhere at once and converged on every machine: what a failed deploy goes back to. */
const converged = async (deploys: DeployService) => {
  const b = await build();
  const deployment = await deploys.deploy(b, { by: 'alice', regions });
  runAll(b);
  await deploys.runner.runOnce();
  expect(await deploys.get(deployment.id)).toMatchObject({ status: 'CONVERGED' });
  return b;
};
const runAll = (build: string, state: 'running' | 'failed' = 'running', only = regions) => {
  for (const region of only) for (const m of ['m1', 'm2']) fleet.set(region, `${region}-${m}`, build, state);
};

beforeEach(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fleetcast-waves-'));
  db = await Database.open({ sqlitePath: path.join(dir, 'fleetcast.sqlite') });
  await new ServiceRegistry(db).add({ name: 'api', repo: '/srv/git/api', buildCommand: 'make', artifactPath: 'out/api', runCommand: './api' });
  queue = new BuildQueue(db, new ServiceRegistry(db));
  fleet = new HandMovedFleet();
});

afterEach(async () => {
  await db.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('wave plans', () => {
  it('canary is the first region then the rest; explicit plans put unnamed regions last; mistakes name the region', () => {
    expect(defaultWaves('canary', regions)).toEqual([['eu'], ['us', 'ap']]);
    expect(defaultWaves('all', regions)).toEqual([regions]);
    expect(defaultWaves('ap;eu', regions)).toEqual([['ap'], ['eu'], ['us']]);
    expect(defaultWaves('canary', ['solo'])).toEqual([['solo']]);
    expect(() => defaultWaves('eu;mars', regions)).toThrow(/region mars, which is not configured/);
    expect(() => defaultWaves('eu;eu,us', regions)).toThrow(/names region eu twice/);
    expect(() => open({ wavePlan: 'eu;mars' })).toThrow(/FLEETCAST_DEPLOY_WAVES names region mars/);
  });
});

describe('rollout', () => {
  it('judges a wave against the goal it signed: machines faking the build with another digest or an old goal sequence do not count', async () => {
    const deploys = open();
    const b = await build();
    const deployment = await deploys.deploy(b, { by: 'alice' });
    const signed = (await fleet.goalStore.get('api', 'eu'))!.goal;
    expect(deployment.waves[0]!.goals).toEqual({ eu: { seq: signed.seq, digest: signed.digest, key: fleet.goalStore.key.keyId } });
    fleet.set('eu', 'eu-m1', b, 'running');
    fleet.set('eu', 'eu-m2', b, 'running', { digest: 'e'.repeat(64), seq: signed.seq });
    await deploys.runner.runOnce();
    expect(await goalBuild('us')).toBeNull();
    fleet.set('eu', 'eu-m2', b, 'running', { digest: signed.digest, seq: signed.seq - 1 });
    await deploys.runner.runOnce();
    expect(await goalBuild('us')).toBeNull();
    expect((await deploys.progress(deployment.id)).progress.find((p) => p.region === 'eu')).toMatchObject({ running: 1, mismatched: 1, converged: false });
    // The machine applies the signed goal for real: the wave converged, the next one is written.
    fleet.set('eu', 'eu-m2', b, 'running');
    await deploys.runner.runOnce();
    expect(await goalBuild('us')).toBe(b);
  });

  it('writes the canary, waits for its machines, then the rest, and records convergence', async () => {
    const deploys = open();
    const b = await build();
    const deployment = await deploys.deploy(b, { by: 'alice' });
    expect(deployment).toMatchObject({ status: 'ROLLING', regions: ['eu', 'us', 'ap'], waves: [{ regions: ['eu'], status: 'WRITTEN' }, { regions: ['us', 'ap'], status: 'PENDING' }] });
    expect([await goalBuild('eu'), await goalBuild('us'), await goalBuild('ap')]).toEqual([b, null, null]);
    expect((await fleet.goalStore.get('api', 'eu'))!.goal).toMatchObject({ fileName: 'api', runCommand: './api', p2pKey: expect.stringMatching(/^[0-9a-f]{64}$/) });

    fleet.set('eu', 'eu-m1', b, 'running');
    fleet.set('eu', 'eu-m2', b, 'downloading');
    await deploys.runner.runOnce();
    expect(await goalBuild('us')).toBeNull(); // one canary machine is still downloading
    expect((await deploys.progress(deployment.id)).final).toBe(false);

    runAll(b, 'running', ['eu']);
    await deploys.runner.runOnce();
    expect([await goalBuild('us'), await goalBuild('ap')]).toEqual([b, b]);
    expect(await deploys.get(deployment.id)).toMatchObject({ status: 'ROLLING', convergedAt: null, waves: [{ status: 'CONVERGED' }, { status: 'WRITTEN' }] });

    runAll(b);
    await deploys.runner.runOnce();
    const done = await deploys.progress(deployment.id);
    expect(done.deployment).toMatchObject({ status: 'CONVERGED', convergedAt: expect.any(Date), rollback: null });
    expect(done.deployment.waves.map((w) => w.status)).toEqual(['CONVERGED', 'CONVERGED']);
    expect(done.progress.map((p) => [p.region, p.converged, p.running])).toEqual([['eu', true, 2], ['us', true, 2], ['ap', true, 2]]);
    expect(done.final).toBe(true);
  });

  it('a failed canary ends FAILED and is rolled back automatically: the canary back on the build before, the later waves never written, the service locked with the reason', async () => {
    const deploys = open();
    const before = await converged(deploys);
    const b = await build();
    const deployment = await deploys.deploy(b, { by: 'alice' });
    fleet.set('eu', 'eu-m1', b, 'running');
    fleet.set('eu', 'eu-m2', b, 'failed');
    await deploys.runner.runOnce();
    const failed = await deploys.progress(deployment.id);
    expect(failed.deployment).toMatchObject({ status: 'FAILED', waves: [{ status: 'FAILED' }, { status: 'SKIPPED' }], rollback: expect.stringMatching(/^d\d+$/) });
    expect(failed.deployment.error).toMatch(
      /^wave 1 \(eu\) failed: 1 of 2 machines failed on the goal build \(at most 0 tolerated\): eu\/eu-m2: health check failed; the later waves were not written; rolled back automatically: eu back on b\d+ \(d\d+\); api is locked$/,
    );
    expect(failed.final).toBe(true);
    expect([await goalBuild('eu'), await goalBuild('us'), await goalBuild('ap')]).toEqual([before, before, before]);
    const rollback = await deploys.get(failed.deployment.rollback!);
    expect(rollback).toMatchObject({ kind: 'rollback', build: before, regions: ['eu'], requestedBy: 'fleetcast', reason: expect.stringContaining(`automatic rollback of ${deployment.id}: wave 1 (eu) failed`) });
    expect(await deploys.getLock('api')).toMatchObject({ lockedBy: 'fleetcast', reason: expect.stringContaining(`automatic rollback of ${deployment.id}`) });
    // Nothing more happens: the next rounds neither write the later waves nor roll back twice.
    await deploys.runner.runOnce();
    await deploys.runner.runOnce();
    expect(await goalBuild('us')).toBe(before);
    expect((await deploys.list({ service: 'api', limit: 10 })).filter((d) => d.kind === 'rollback')).toHaveLength(1);
  });

  it('a failed last wave ends FAILED, not applied, and every region it wrote is rolled back', async () => {
    const deploys = open();
    const before = await converged(deploys);
    const b = await build();
    const deployment = await deploys.deploy(b, { by: 'alice' });
    runAll(b, 'running', ['eu']);
    await deploys.runner.runOnce();
    expect(await goalBuild('us')).toBe(b);
    runAll(b, 'running', ['us']);
    fleet.set('ap', 'ap-m1', b, 'failed');
    await deploys.runner.runOnce();
    const failed = await deploys.get(deployment.id);
    expect(failed).toMatchObject({ status: 'FAILED', convergedAt: null, waves: [{ status: 'CONVERGED' }, { status: 'FAILED' }] });
    expect(failed.error).toMatch(/^wave 2 \(us, ap\) failed: .*; rolled back automatically: eu, us, ap back on b\d+/);
    expect([await goalBuild('eu'), await goalBuild('us'), await goalBuild('ap')]).toEqual([before, before, before]);
  });

  it('a rollback claimed by a coordinator that died before doing it is done by the next round, once', async () => {
    const deploys = open();
    const before = await converged(deploys);
    const b = await build();
    const deployment = await deploys.deploy(b, { by: 'alice' });
    // What a coordinator killed right after recording the failure leaves behind.
    await db.execute(`UPDATE deployments SET status = 'FAILED', error = 'wave 1 (eu) failed: 1 of 2 machines failed; rolling back automatically', rollback_deployment = 'pending' WHERE id = ?`, [
      Number(deployment.id.slice(1)),
    ]);
    expect((await deploys.progress(deployment.id)).final).toBe(false);
    await deploys.runner.runOnce();
    const failed = await deploys.progress(deployment.id);
    expect(failed).toMatchObject({ final: true, deployment: { status: 'FAILED', rollback: expect.stringMatching(/^d\d+$/) } });
    expect(failed.deployment.error).toBe(`wave 1 (eu) failed: 1 of 2 machines failed; rolled back automatically: eu back on ${before} (${failed.deployment.rollback}); api is locked`);
    expect(await goalBuild('eu')).toBe(before);
    await deploys.runner.runOnce();
    expect((await deploys.list({ service: 'api', limit: 10 })).filter((d) => d.kind === 'rollback')).toHaveLength(1);
  });

  it('with FLEETCAST_DEPLOY_AUTO_ROLLBACK off a failed wave ends FAILED and the canary stays where it is', async () => {
    const deploys = open({ waves: { autoRollback: false } });
    await converged(deploys);
    const b = await build();
    const deployment = await deploys.deploy(b, { by: 'alice' });
    fleet.set('eu', 'eu-m1', b, 'failed');
    await deploys.runner.runOnce();
    const failed = await deploys.get(deployment.id);
    expect(failed).toMatchObject({ status: 'FAILED', rollback: null });
    expect(failed.error).toMatch(/automatic rollback is off — roll back with fleetcast rollback api/);
    expect(await goalBuild('eu')).toBe(b);
    expect(await deploys.getLock('api')).toBeNull();
  });

  it("a service's own auto-rollback setting wins over FLEETCAST_DEPLOY_AUTO_ROLLBACK", async () => {
    await new ServiceRegistry(db).add({ name: 'web', repo: '/srv/git/web', buildCommand: 'make', artifactPath: 'out/web', runCommand: './web', autoRollback: false });
    const deploys = open();
    const webBuild = async () => `b${(await deployableBuild({ queue, db }, 'web', regions)).id}`;
    const first = await webBuild();
    const start = await deploys.deploy(first, { by: 'alice', regions });
    runAll(first);
    await deploys.runner.runOnce();
    expect(await deploys.get(start.id)).toMatchObject({ status: 'CONVERGED' });
    const b = await webBuild();
    const deployment = await deploys.deploy(b, { by: 'alice' });
    fleet.set('eu', 'eu-m1', b, 'failed');
    await deploys.runner.runOnce();
    const failed = await deploys.get(deployment.id);
    expect(failed).toMatchObject({ status: 'FAILED', rollback: null });
    expect(failed.error).toMatch(/automatic rollback is off/);
    expect((await fleet.goalStore.get('web', 'eu'))?.goal.build).toBe(b);
  });

  it("a wave of a share of a region is judged on the machines in it; the next wave takes the whole region (the service's own plan)", async () => {
    await new ServiceRegistry(db).add({ name: 'web', repo: '/srv/git/web', buildCommand: 'make', artifactPath: 'out/web', runCommand: './web', wavePlan: 'eu:50%;eu;us,ap' });
    const candidates = Array.from({ length: 50 }, (_, i) => `eu-w${i}`);
    const inside = candidates.filter((m) => inShare('web', m, 50)).slice(0, 2);
    const outside = candidates.filter((m) => !inShare('web', m, 50)).slice(0, 2);
    const deploys = open();
    const b = `b${(await deployableBuild({ queue, db }, 'web', regions)).id}`;
    const deployment = await deploys.deploy(b, { by: 'alice' });
    expect(deployment.waves.map((w) => [w.regions, w.shares ?? null, w.status])).toEqual([
      [['eu'], { eu: 50 }, 'WRITTEN'],
      [['eu'], null, 'PENDING'],
      [['us', 'ap'], null, 'PENDING'],
    ]);
    expect((await fleet.goalStore.get('web', 'eu'))!.goal).toMatchObject({ v: 3, canary: { share: 50 } });
    for (const m of outside) fleet.set('eu', m, 'b0');
    fleet.set('eu', inside[0]!, b);
    fleet.set('eu', inside[1]!, b, 'downloading');
    await deploys.runner.runOnce();
    expect((await deploys.get(deployment.id)).waves[0]!.status).toBe('WRITTEN');
    // The machines outside the share still run b0: the share converged all the same.
    fleet.set('eu', inside[1]!, b);
    await deploys.runner.runOnce();
    const next = await deploys.get(deployment.id);
    expect(next.waves.map((w) => w.status)).toEqual(['CONVERGED', 'WRITTEN', 'PENDING']);
    const whole = (await fleet.goalStore.get('web', 'eu'))!.goal;
    expect(whole).toMatchObject({ v: 2, build: b });
    expect(whole.canary).toBeUndefined();
    expect((await deploys.progress(deployment.id)).progress.find((p) => p.region === 'eu')).toMatchObject({ goalShare: null, machines: 4 });
  });

  it('the first deploy of a service fails with nothing to roll back to', async () => {
    const deploys = open();
    const b = await build();
    const deployment = await deploys.deploy(b, { by: 'alice' });
    fleet.set('eu', 'eu-m1', b, 'failed');
    await deploys.runner.runOnce();
    const failed = await deploys.get(deployment.id);
    expect(failed).toMatchObject({ status: 'FAILED', rollback: null });
    expect(failed.error).toMatch(/nothing rolled back: eu has no earlier build to go back to$/);
  });

  it('tolerates failures up to FLEETCAST_WAVE_MAX_FAILED', async () => {
    const deploys = open({ waves: { maxFailedFraction: 0.5 } });
    const b = await build();
    await deploys.deploy(b, { by: 'alice' });
    fleet.set('eu', 'eu-m1', b, 'running');
    fleet.set('eu', 'eu-m2', b, 'failed');
    await deploys.runner.runOnce();
    expect(await goalBuild('us')).toBe(b);
  });

  it('with FLEETCAST_WAVE_MIN_DONE below 1 a straggler does not hold the next wave; at 1 it does', async () => {
    for (const region of regions) for (const m of ['m1', 'm2', 'm3', 'm4']) fleet.set(region, `${region}-${m}`, 'b0');
    const strict = open();
    const b = await build();
    await strict.deploy(b, { by: 'alice' });
    for (const m of ['m1', 'm2', 'm3']) fleet.set('eu', `eu-${m}`, b, 'running');
    fleet.set('eu', 'eu-m4', b, 'downloading');
    await strict.runner.runOnce();
    expect(await goalBuild('us')).toBeNull();
    // 3 of 4 done: a share of 0.75 lets the rollout go on; 0.8 does not. (The same coordinator's
    // lease: another would wait for it to run out.)
    await open({ waves: { minDoneFraction: 0.8 }, leases: strict.leases }).runner.runOnce();
    expect(await goalBuild('us')).toBeNull();
    await open({ waves: { minDoneFraction: 0.75 }, leases: strict.leases }).runner.runOnce();
    expect(await goalBuild('us')).toBe(b);
  });

  it('halts a wave that does not converge within the timeout, saying what it waited for', async () => {
    const deploys = open({ waves: { timeoutMs: 50 } });
    const b = await build();
    const deployment = await deploys.deploy(b, { by: 'alice' });
    fleet.unreadable.add('eu');
    await new Promise((resolve) => setTimeout(resolve, 80));
    await deploys.runner.runOnce();
    expect((await deploys.get(deployment.id)).error).toMatch(/not converged within .* \(the agents' reports of eu cannot be read\)/);
  });

  it('waits the soak time after a wave converged before writing the next', async () => {
    const deploys = open({ waves: { soakMs: 150 } });
    const b = await build();
    const deployment = await deploys.deploy(b, { by: 'alice' });
    runAll(b, 'running', ['eu']);
    await deploys.runner.runOnce();
    expect(await deploys.get(deployment.id)).toMatchObject({ status: 'ROLLING', waves: [{ status: 'CONVERGED' }, { status: 'PENDING' }] });
    expect(await goalBuild('us')).toBeNull();
    await new Promise((resolve) => setTimeout(resolve, 200));
    await deploys.runner.runOnce();
    expect(await goalBuild('us')).toBe(b);
  });

  it('promote also ends the soak; a paused rollout still fails (and is rolled back) when its wave fails', async () => {
    const deploys = open({ waves: { soakMs: 600_000 } });
    const before = await converged(deploys);
    const b = await build();
    const deployment = await deploys.deploy(b, { by: 'alice' });
    runAll(b, 'running', ['eu']);
    await deploys.runner.runOnce();
    expect(await goalBuild('us')).toBe(before); // soaking for 10 minutes
    expect(await deploys.control('promote', deployment.id, { by: 'bob' })).toMatchObject({ waves: [{ status: 'CONVERGED', promotedBy: 'bob' }, { status: 'PENDING' }] });
    await deploys.runner.runOnce();
    expect(await goalBuild('us')).toBe(b);

    const c = await build();
    const paused = await deploys.deploy(c, { by: 'alice' });
    await deploys.control('pause', paused.id, { by: 'bob' });
    fleet.set('eu', 'eu-m1', c, 'failed');
    await deploys.runner.runOnce();
    expect(await deploys.get(paused.id)).toMatchObject({ status: 'FAILED', rollback: expect.stringMatching(/^d\d+$/) });
    expect(await goalBuild('eu')).toBe(b);
  });

  it('a new deploy supersedes a rollout in progress; a region with no machines converges at once', async () => {
    const deploys = open();
    const first = await build();
    const second = await build();
    const d1 = await deploys.deploy(first, { by: 'alice' });
    const d2 = await deploys.deploy(second, { by: 'bob' });
    expect(await deploys.get(d1.id)).toMatchObject({ status: 'SUPERSEDED', error: `superseded by ${d2.id} before every wave was written`, waves: [{ status: 'WRITTEN' }, { status: 'SKIPPED' }] });
    expect((await deploys.progress(d1.id)).final).toBe(true);
    await deploys.runner.runOnce(); // no machines anywhere: every wave converges vacuously
    await deploys.runner.runOnce();
    expect(await deploys.get(d2.id)).toMatchObject({ status: 'CONVERGED', convergedAt: expect.any(Date) });
    expect([await goalBuild('eu'), await goalBuild('us'), await goalBuild('ap')]).toEqual([second, second, second]);
  });

  it('explicit regions or waves replace the default plan; a rollback writes every region at once', async () => {
    const deploys = open();
    const b = await build();
    expect(await deploys.deploy(b, { by: 'alice', regions: ['us', 'ap'] })).toMatchObject({ status: 'ROLLING', waves: [{ regions: ['us', 'ap'] }] });
    const c = await build();
    const waved = await deploys.deploy(c, { by: 'alice', waves: [['ap'], ['eu', 'us']] });
    expect(waved.waves.map((w) => w.regions)).toEqual([['ap'], ['eu', 'us']]);
    await expect(deploys.deploy(c, { by: 'alice', waves: [['ap'], ['ap']] })).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    const rollback = await deploys.rollback('api', { by: 'carol', to: b });
    expect(rollback).toMatchObject({ kind: 'rollback', status: 'ROLLING', waves: [{ regions, status: 'WRITTEN' }] });
    // The rollback replaced the rollout in every one of its regions.
    expect(await deploys.get(waved.id)).toMatchObject({ status: 'ROLLED_BACK', error: `rolled back by ${rollback.id}` });
  });
});

describe('Idempotency-Key', () => {
  it('gives the same deployment back for the same key and caller, and refuses the key for another request', async () => {
    const deploys = open({ wavePlan: 'all' });
    const b = await build();
    const first = await deploys.deploy(b, { by: 'alice', idempotencyKey: 'slack-action-1' });
    const again = await deploys.deploy(b, { by: 'alice', idempotencyKey: 'slack-action-1' });
    expect(again).toMatchObject({ id: first.id, replayed: true });
    expect(await deploys.list({ service: 'api', limit: 10 })).toHaveLength(1);
    // Another caller's identical key is another request.
    expect((await deploys.deploy(b, { by: 'bob', idempotencyKey: 'slack-action-1' })).id).not.toBe(first.id);
    await expect(deploys.rollback('api', { by: 'alice', idempotencyKey: 'slack-action-1', to: b })).rejects.toMatchObject({ code: 'CONFLICT', message: expect.stringContaining(`already used for ${first.id}`) });
    const rollback = await deploys.rollback('api', { by: 'carol', idempotencyKey: 'k2', to: b });
    expect(await deploys.rollback('api', { by: 'carol', idempotencyKey: 'k2', to: b })).toMatchObject({ id: rollback.id, replayed: true });
  });
});
