// DeployService on SQLite with an in-memory goal store: the SQL of deployments, locks and audit
// in the second dialect, and the spool that carries records over a database outage.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { Database } from '../../entities/index.ts';
import { silentLogger } from '../../logging/index.ts';
import { deployableBuild } from '../../test/support/deployable-build.ts';
import { BuildQueue } from '../../queue/index.ts';
import { ReplicationStatusService } from '../replication/index.ts';
import { ServiceRegistry } from '../../queue/services/index.ts';
import { AuditSpool } from './audit-spool.ts';
import { DeployService } from './deploy-service.ts';
import { MemoryGoals } from '../../test/support/deploy-fakes.ts';
import { selectAudit } from './sql/deploy-sql.ts';

const regions = ['eu', 'us'];

let dir: string;
let db: Database;
let queue: BuildQueue;
let goals: MemoryGoals;
let spool: AuditSpool;
let deploys: DeployService;

beforeEach(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fleetcast-deploys-'));
  db = await Database.open({ sqlitePath: path.join(dir, 'fleetcast.sqlite') });
  const services = new ServiceRegistry(db);
  await services.add({ name: 'api', repo: '/srv/git/api', buildCommand: 'make', artifactPath: 'api' });
  queue = new BuildQueue(db, services);
  goals = new MemoryGoals();
  spool = new AuditSpool(path.join(dir, 'pending-audit'), silentLogger());
  deploys = new DeployService(db, queue, services, new ReplicationStatusService(db, regions), { regions, fleet: { goals: () => goals, summary: () => null }, wavePlan: 'all', spool, clusterSecret: 'test-secret-'.padEnd(64, 'x'), logger: silentLogger() });
});

afterEach(async () => {
  await db.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

it('deploys, refuses while locked, rolls back and locks, all audited (SQLite)', async () => {
  const first = await deployableBuild({ queue, db }, 'api', regions);
  const second = await deployableBuild({ queue, db }, 'api', regions);
  expect(await deploys.deploy(`b${first.id}`, { by: 'alice' })).toMatchObject({ id: 'd1', status: 'ROLLING', regions });
  await deploys.lock('api', { by: 'bob', reason: 'freeze' });
  await expect(deploys.lock('api', { by: 'bob', reason: 'again' })).rejects.toMatchObject({ code: 'CONFLICT' });
  await expect(deploys.deploy(`b${second.id}`, { by: 'alice' })).rejects.toMatchObject({ code: 'LOCKED', message: expect.stringContaining('locked by bob') });
  await deploys.unlock('api', { by: 'bob' });
  await expect(deploys.unlock('api', { by: 'bob' })).rejects.toMatchObject({ code: 'NOT_FOUND' });
  await deploys.deploy(`b${second.id}`, { by: 'alice' });
  const rollback = await deploys.rollback('api', { by: 'carol' });
  expect(rollback).toMatchObject({ kind: 'rollback', build: `b${first.id}` });
  expect((await goals.get('api', 'us'))!.goal).toMatchObject({ build: `b${first.id}`, kind: 'rollback', deployment: rollback.id });
  expect(await deploys.getLock('api')).toMatchObject({ lockedBy: 'carol', reason: 'rolled back by carol' });
  const audit = await selectAudit(db, 'api');
  // Each signed goal written is audited too, before the request's own row (written once it is done).
  const writes = ['goal-write:ok', 'goal-write:ok'];
  expect(audit.map((row) => `${row.action}:${row.result}`)).toEqual([...writes, 'deploy:ok', 'lock:ok', 'lock:refused', 'deploy:refused', 'unlock:ok', 'unlock:refused', ...writes, 'deploy:ok', ...writes, 'rollback:ok']);
  const lastWrite = audit.filter((row) => row.action === 'goal-write').at(-1)!;
  const stored = (await goals.get('api', 'us'))!;
  expect(lastWrite).toMatchObject({ actor: 'carol' });
  expect(JSON.parse(String(lastWrite.detail))).toEqual({ deployment: rollback.id, kind: 'rollback', build: `b${first.id}`, digest: first.digest, region: 'us', seq: stored.goal.seq, revision: stored.revision, key: goals.key.keyId });
  expect((await deploys.list({ service: 'api', limit: 10 })).map((d) => d.kind)).toEqual(['rollback', 'deploy', 'deploy']);
  // The rollback is a new, higher sequence naming the older build; its deployment keeps what was signed in each region.
  const [rolledBack, deployed] = await deploys.list({ service: 'api', limit: 2 });
  expect(rolledBack!.waves[0]!.goals.us!.seq).toBe(stored.goal.seq);
  expect(rolledBack!.waves[0]!.goals.us!.seq).toBeGreaterThan(deployed!.waves[0]!.goals.us!.seq);
});

it('a spooled rollback is written to SQL by flush(), with its real id beside the placeholder', async () => {
  spool.write({
    deployment: { placeholderId: 'd9001700000000000', service: 'api', buildId: 1, regions, kind: 'rollback', requestedBy: 'carol', reason: 'r', status: 'ROLLING', createdAt: new Date().toISOString(), error: null },
    lock: { service: 'api', lockedBy: 'carol', reason: 'rolled back by carol', since: new Date().toISOString(), replace: true },
    audit: { at: new Date().toISOString(), actor: 'carol', action: 'rollback', target: 'api', result: 'ok', detail: {} },
  });
  expect(spool.pending()).toHaveLength(1);
  expect(await spool.flush(db)).toBe(1);
  expect(spool.pending()).toHaveLength(0);
  const [row] = await selectAudit(db, 'api');
  expect(JSON.parse(String(row!.detail))).toEqual({ spooled: true, deployment: 'd1', placeholderDeployment: 'd9001700000000000' });
  expect(await deploys.getLock('api')).toMatchObject({ lockedBy: 'carol' });
});

it('a malformed goal: status reports it per region (goalError), a deploy overwrites it, a rollback looks past it', async () => {
  const first = await deployableBuild({ queue, db }, 'api', regions);
  const second = await deployableBuild({ queue, db }, 'api', regions);
  await deploys.deploy(`b${first.id}`, { by: 'alice' });
  const revision = goals.putMalformed('api', 'eu');
  const status = await deploys.status('api');
  expect(status.regions.find((r) => r.region === 'eu')).toMatchObject({ goal: null, revision, goalError: { code: 'GOAL_INVALID', message: expect.stringContaining('is malformed') } });
  expect(status.regions.find((r) => r.region === 'us')).toMatchObject({ goal: { build: `b${first.id}` }, goalError: null });
  // The deploy writes over the malformed value at its revision.
  expect(await deploys.deploy(`b${second.id}`, { by: 'alice' })).toMatchObject({ status: 'ROLLING' });
  expect((await deploys.status('api')).regions.map((r) => [r.region, r.goal?.build, r.goalError])).toEqual([['eu', `b${second.id}`, null], ['us', `b${second.id}`, null]]);
  goals.putMalformed('api', 'eu');
  expect(await deploys.rollback('api', { by: 'carol' })).toMatchObject({ build: `b${first.id}`, status: 'ROLLING' });
  expect((await goals.get('api', 'eu'))!.goal.build).toBe(`b${first.id}`);
});

it('a deploy in waves hints the later waves\' regions to prefetch the build (not the first wave\'s, not a one-wave deploy, not when turned off)', async () => {
  const three = ['eu', 'us', 'ap'];
  const make = (prefetch: boolean | undefined) =>
    new DeployService(db, queue, new ServiceRegistry(db), new ReplicationStatusService(db, three), { regions: three, fleet: { goals: () => goals, summary: () => null }, wavePlan: 'canary', ...(prefetch === undefined ? {} : { prefetch }), spool, clusterSecret: 'test-secret-'.padEnd(64, 'x'), logger: silentLogger() });
  const build = await deployableBuild({ queue, db }, 'api', three);
  const deployment = await make(undefined).deploy(`b${build.id}`, { by: 'alice' });
  expect(deployment.waves.map((w) => w.regions)).toEqual([['eu'], ['us', 'ap']]);
  expect([...goals.prefetch.keys()].sort()).toEqual(['api.ap', 'api.us']);
  const hint = goals.prefetch.get('api.us')!;
  // The very document the wave will write, newer than the region's goal (none yet here).
  expect(hint.goal).toMatchObject({ service: 'api', region: 'us', build: `b${build.id}`, digest: build.digest, deployment: deployment.id, kind: 'deploy' });
  expect(hint.goal.p2pKey).toMatch(/^[0-9a-f]{64}$/);
  expect(hint.revision).toBeGreaterThan((await goals.get('api', 'eu'))!.revision);
  expect(hint.goal).toMatchObject({ purpose: 'prefetch', sig: { key: goals.key.keyId } });
  expect(await goals.get('api', 'us')).toBeNull();

  goals.prefetch.clear();
  await make(undefined).deploy(`b${build.id}`, { by: 'alice', regions: three });
  await make(false).deploy(`b${build.id}`, { by: 'alice' });
  await make(undefined).rollback('api', { by: 'carol', to: `b${build.id}` });
  expect(goals.prefetch.size).toBe(0);
});

it('previews judge by the rules of the deploy and change nothing (SQLite): LOCKED and NOT_DEPLOYABLE listed in order, the rollback target as the rollback picks it', async () => {
  const first = await deployableBuild({ queue, db }, 'api', regions);
  const second = await deployableBuild({ queue, db }, 'api', regions, ['us']);
  await deploys.deploy(`b${first.id}`, { by: 'alice' });
  await deploys.lock('api', { by: 'bob', reason: 'freeze' });
  const rows = async () => JSON.stringify([await deploys.list({ limit: 100 }), await selectAudit(db, 'api'), await deploys.getLock('api'), await goals.get('api', 'eu'), await goals.get('api', 'us')]);
  const before = await rows();

  const preview = await deploys.previews.deploy(`b${second.id}`, {});
  expect(preview.refusals.map((r) => r.code)).toEqual(['NOT_DEPLOYABLE', 'LOCKED']);
  expect(preview.refusals[0]!.details).toMatchObject({ missingRegions: ['us'] });
  expect(preview.regions.map((r) => [r.region, r.current?.build, r.known])).toEqual([['eu', `b${first.id}`, false], ['us', `b${first.id}`, false]]);
  // Without a commit mirror the preview says so and still answers.
  expect(preview.changes).toEqual([{ from: `b${first.id}`, fromCommit: first.commit, regions, shipped: [], removed: [], truncated: false, error: 'this coordinator keeps no commit mirror' }]);
  // The deploy answers with the first refusal, word for word.
  await expect(deploys.deploy(`b${second.id}`, { by: 'alice' })).rejects.toMatchObject({ code: 'NOT_DEPLOYABLE', message: preview.refusals[0]!.message });
  expect(await rows()).not.toBe(before); // the refused deploy is audited; the preview was not
  const afterDeploy = await rows();
  await expect(deploys.previews.rollback('api', {})).rejects.toMatchObject({ code: 'NOT_FOUND' });
  await expect(deploys.previews.rollback('api', { to: `b${second.id}`, regions: ['eu'] })).resolves.toMatchObject({ kind: 'rollback', waves: [['eu']], refusals: [] });
  expect(await rows()).toBe(afterDeploy);
});
