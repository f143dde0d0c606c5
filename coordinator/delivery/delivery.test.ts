// The delivery loop on SQLite (the second dialect; `fleetcast up` runs on it) with an in-memory
// goal store: freeze windows, the pre-deploy check and continuous deploy, rounds driven by hand
// and the clock set by the test.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Database } from '../../entities/index.ts';
import { isFleetcastError } from '../../errors/index.ts';
import { silentLogger } from '../../logging/index.ts';
import { BuildQueue } from '../../queue/index.ts';
import { ServiceRegistry } from '../../queue/services/index.ts';
import { MemoryGoals } from '../../test/support/deploy-fakes.ts';
import { deployableBuild } from '../../test/support/deployable-build.ts';
import { AuditSpool, DeployService, selectAudit } from '../deploys/index.ts';
import { ReplicationStatusService } from '../replication/index.ts';
import { ContinuousDeployer } from './continuous-deployer.ts';
import { DeliverySettings } from './delivery-settings.ts';
import { DeliveryGuard } from './deploy-guards.ts';
import { FreezeBook } from './freeze-book.ts';
import { PredeployCheck } from './predeploy-check.ts';
import { selectCheckRuns } from './delivery-sql.ts';

const regions = ['eu', 'us'];
let dir: string;
let db: Database;
let now: Date;
let queue: BuildQueue;
let freezes: FreezeBook;
let settings: DeliverySettings;
let deploys: DeployService;
let continuous: ContinuousDeployer;

beforeEach(async () => {
  now = new Date('2026-12-11T16:00:00Z');
  const clock = () => now;
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fleetcast-delivery-'));
  db = await Database.open({ sqlitePath: path.join(dir, 'fleetcast.sqlite') });
  const services = new ServiceRegistry(db);
  await services.add({ name: 'api', repo: '/srv/git/api', buildCommand: 'make', artifactPath: 'api' });
  queue = new BuildQueue(db, services);
  freezes = new FreezeBook(db, services, clock);
  settings = new DeliverySettings(db, services, clock);
  const replication = new ReplicationStatusService(db, regions);
  const guard = new DeliveryGuard(db, services, freezes, new PredeployCheck('none'), { checkTimeoutMs: 5_000, clock, logger: silentLogger() });
  const goals = new MemoryGoals();
  deploys = new DeployService(db, queue, services, replication, {
    regions,
    fleet: { goals: () => goals, summary: () => null },
    wavePlan: 'all',
    spool: new AuditSpool(path.join(dir, 'pending-audit'), silentLogger()),
    clusterSecret: 'test-secret-'.padEnd(64, 'x'),
    guard,
    logger: silentLogger(),
  });
  continuous = new ContinuousDeployer(db, queue, services, replication, deploys, freezes, { intervalMs: 60_000, clock, logger: silentLogger() });
});

afterEach(async () => {
  await db.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const refusal = async (work: Promise<unknown>) => {
  try {
    await work;
  } catch (err) {
    if (isFleetcastError(err)) return err;
    throw err;
  }
  throw new Error('not refused');
};
/** The wave runner is not running here: a deployment ends when the test says so. */
const converge = (id: string) => db.execute(`UPDATE deployments SET status = 'CONVERGED' WHERE id = ?`, [Number(id.slice(1))]);

describe('freeze windows (SQLite)', () => {
  it('a weekly window refuses deploys (FROZEN), an override passes and is audited, removal ends it', async () => {
    const window = await freezes.add({ service: null, reason: 'weekend', by: 'alice', weekly: 'Fri 16:00-Mon 08:00', timeZone: 'Europe/Paris' });
    const build = await deployableBuild({ queue, db }, 'api', regions);
    const err = await refusal(deploys.deploy(`b${build.id}`, { by: 'bob' }));
    expect(err.code).toBe('FROZEN');
    expect(err.message).toContain(`${window.id} (every service, weekly Fri 16:00-Mon 08:00 Europe/Paris): weekend, set by alice, on until 2026-12-14T07:00:00.000Z`);
    const deployment = await deploys.deploy(`b${build.id}`, { by: 'carol', overrideFreeze: 'hotfix' });
    const audit = (await selectAudit(db, 'api')).filter((row) => row.action === 'deploy').map((row) => [row.result, JSON.parse(String(row.detail))]);
    expect(audit).toMatchObject([
      ['refused', { error: { code: 'FROZEN' } }],
      ['ok', { deployment: deployment.id, overrideFreeze: 'hotfix', frozenOverridden: [window.id] }],
    ]);
    expect((await freezes.active('api')).map((a) => a.window.id)).toEqual([window.id]);
    await freezes.remove(window.id, 'alice');
    expect(await freezes.active('api')).toEqual([]);
    expect(await freezes.list(null)).toEqual([]);
    await expect(freezes.remove(window.id, 'alice')).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('a one-off window must end after now; an unknown service or time zone is refused', async () => {
    await expect(freezes.add({ service: 'api', reason: 'x', by: 'a', until: new Date('2026-12-11T15:00:00Z') })).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    await expect(freezes.add({ service: 'api', reason: 'x', by: 'a' })).rejects.toThrow(/--until/);
    await expect(freezes.add({ service: 'nope', reason: 'x', by: 'a', until: new Date('2027-01-01T00:00:00Z') })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(freezes.add({ service: null, reason: 'x', by: 'a', weekly: 'Fri 16:00-Mon 08:00', timeZone: 'Europe/Atlantis' })).rejects.toThrow(/unknown time zone/);
    const later = await freezes.add({ service: 'api', reason: 'later', by: 'a', from: new Date('2026-12-24T00:00:00Z'), until: new Date('2026-12-27T00:00:00Z') });
    expect(await freezes.active('api')).toEqual([]);
    now = new Date('2026-12-25T00:00:00Z');
    expect((await freezes.active('api')).map((a) => a.window.id)).toEqual([later.id]);
    now = new Date('2026-12-27T00:00:00Z');
    expect(await freezes.list('api')).toEqual([]);
  });
});

describe('continuous deploy (SQLite)', () => {
  it('deploys the newest deployable build once; waits (recorded once) in a freeze and for a rollout; passes over a build; deploys when the window ends', async () => {
    await settings.setContinuousDeploy('api', true, undefined, 'alice');
    await expect(settings.setContinuousDeploy('api', true, 'release', 'alice')).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    const copying = await deployableBuild({ queue, db }, 'api', regions, ['us']);
    await continuous.runOnce();
    expect((await settings.get('api')).continuousDeploy).toMatchObject({ buildId: copying.id, state: 'waiting', reason: 'waiting for the copies in us' });

    const first = await deployableBuild({ queue, db }, 'api', regions);
    await continuous.runOnce();
    await continuous.runOnce();
    const [d1] = await deploys.list({ service: 'api', limit: 5 });
    expect(d1).toMatchObject({ build: `b${first.id}`, requestedBy: 'continuous-deploy', reason: 'continuous deploy of main' });
    expect(await deploys.list({ service: 'api', limit: 5 })).toHaveLength(1);

    const second = await deployableBuild({ queue, db }, 'api', regions);
    await continuous.runOnce();
    expect((await settings.get('api')).continuousDeploy).toMatchObject({ buildId: second.id, state: 'waiting', reason: `waiting for ${d1!.id} (ROLLING) to end` });
    await converge(d1!.id);
    await freezes.add({ service: 'api', reason: 'demo', by: 'alice', until: new Date('2026-12-11T18:00:00Z') });
    await continuous.runOnce();
    await continuous.runOnce();
    const third = await deployableBuild({ queue, db }, 'api', regions);
    await continuous.runOnce();
    expect((await settings.get('api')).continuousDeploy).toMatchObject({ buildId: third.id, state: 'waiting' });
    expect((await settings.get('api')).continuousDeploy.reason).toContain('demo');

    now = new Date('2026-12-11T18:00:00Z');
    await continuous.runOnce();
    const deployed = (await deploys.list({ service: 'api', limit: 5 })).map((d) => d.build);
    expect(deployed).toEqual([`b${third.id}`, `b${first.id}`]);
    const rows = (await selectAudit(db, 'api')).filter((row) => row.action === 'continuous-deploy').map((row) => JSON.parse(String(row.detail)));
    expect(rows.map((row) => [row.build, row.state])).toEqual([
      [`b${copying.id}`, 'waiting'],
      [`b${first.id}`, 'deployed'],
      [`b${second.id}`, 'waiting'],
      [`b${second.id}`, 'waiting'],
      [`b${third.id}`, 'waiting'],
      [`b${third.id}`, 'deployed'],
    ]);
    expect(rows[4]).toMatchObject({ passedOver: `b${second.id}` });
  });

  it('a failing check skips the build for good, with its output kept; the next build goes and its check run names the deployment', async () => {
    await settings.setContinuousDeploy('api', true, 'main', 'alice');
    const bad = await deployableBuild({ queue, db }, 'api', regions);
    await settings.setCheck('api', { command: `echo "checking $FLEETCAST_BUILD_ID"; test "$FLEETCAST_BUILD_ID" != "b${bad.id}"` }, 'alice');
    await continuous.runOnce();
    await continuous.runOnce();
    const cd = (await settings.get('api')).continuousDeploy;
    expect(cd).toMatchObject({ buildId: bad.id, state: 'skipped' });
    expect(cd.reason).toContain(`CHECK_FAILED: the pre-deploy check of api failed for b${bad.id}`);
    expect(cd.reason).toContain(`checking b${bad.id}`);
    expect(await deploys.list({ service: 'api', limit: 5 })).toEqual([]);
    const good = await deployableBuild({ queue, db }, 'api', regions);
    await continuous.runOnce();
    const [deployment] = await deploys.list({ service: 'api', limit: 5 });
    expect(deployment).toMatchObject({ build: `b${good.id}` });
    const runs = await selectCheckRuns(db, { service: 'api', limit: 5 });
    expect(runs.map((r) => [r.buildId, r.ok, r.deployment])).toEqual([
      [good.id, true, deployment!.id],
      [bad.id, false, null],
    ]);
    expect(runs[1]!.output).toContain(`checking b${bad.id}\nexit 1`);
  });
});
