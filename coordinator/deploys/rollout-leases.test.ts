// Two coordinators' deploy services on one database (MariaDB and SQLite) and one goal store:
// only the holder of a rollout's lease steps it, the other takes over once the holder stops
// renewing it, each wave's goals are written once; two deploys of one service racing through
// both coordinators start exactly one; an abort through the coordinator that does not step the
// rollout rolls it back once.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Database } from '../../entities/index.ts';
import { isFleetcastError } from '../../errors/index.ts';
import { silentLogger } from '../../logging/index.ts';
import { BuildQueue } from '../../queue/index.ts';
import { ServiceRegistry } from '../../queue/services/index.ts';
import { dialects, freshDatabase, type TestDatabase } from '../../test/support/databases.ts';
import { HandMovedFleet } from '../../test/support/deploy-fakes.ts';
import { deployableBuild } from '../../test/support/deployable-build.ts';
import { eventually } from '../../test/support/eventually.ts';
import { ReplicationStatusService } from '../replication/index.ts';
import { AuditSpool } from './audit-spool.ts';
import { DeployService } from './deploy-service.ts';
import { Leases, rolloutLease, serviceLease } from './leases.ts';

const regions = ['eu', 'us', 'ap'];
/** Short, so a takeover is quick; each round renews it long before it runs out. */
const ttlMs = 600;

describe.each(dialects)('rollout leases between two coordinators on %s', (dialect) => {
  let dir: string;
  let fresh: TestDatabase;
  let dbA: Database;
  let dbB: Database;
  let fleet: HandMovedFleet;
  let a: DeployService;
  let b: DeployService;

  const open = (db: Database, holder: string) =>
    new DeployService(db, new BuildQueue(db, new ServiceRegistry(db)), new ServiceRegistry(db), new ReplicationStatusService(db, regions), {
      regions,
      fleet,
      spool: new AuditSpool(path.join(dir, `pending-audit-${holder}`), silentLogger()),
      clusterSecret: 'x'.repeat(64),
      leases: new Leases(db, { ttlMs, holder }),
      logger: silentLogger(),
    });
  const build = async () => `b${(await deployableBuild({ queue: new BuildQueue(dbA, new ServiceRegistry(dbA)), db: dbA }, 'api', regions)).id}`;
  const goalBuild = async (region: string) => (await fleet.goalStore.get('api', region))?.goal.build ?? null;
  const runAll = (build: string, only = regions) => {
    for (const region of only) for (const m of ['m1', 'm2']) fleet.set(region, `${region}-${m}`, build, 'running');
  };
  const goalWrites = async (deployment: string) =>
    (await dbA.query<{ detail: string }>(`SELECT detail FROM audit WHERE action = 'goal-write'`)).map((row) => JSON.parse(String(row.detail)) as { deployment: string; region: string }).filter((d) => d.deployment === deployment);

  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fleetcast-leases-'));
    fresh = await freshDatabase(dialect);
    // SQLite: one file, one handle (its single connection is the lock); MariaDB: a pool per coordinator.
    dbA = await Database.open({ url: fresh.url, ...(fresh.sqlitePath ? { sqlitePath: fresh.sqlitePath } : {}) });
    dbB = dialect === 'mysql' ? await Database.open({ url: fresh.url }) : dbA;
    await new ServiceRegistry(dbA).add({ name: 'api', repo: '/srv/git/api', buildCommand: 'make', artifactPath: 'out/api', runCommand: './api' });
    fleet = new HandMovedFleet();
    a = open(dbA, 'coordinator-a');
    b = open(dbB, 'coordinator-b');
  });

  afterEach(async () => {
    if (dbB !== dbA) await dbB.close();
    await dbA.close();
    await fresh.drop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('only the lease holder steps a rollout; once it stops renewing, the other takes over and writes each wave once', async () => {
    // Machines on an older build everywhere: a region with none would converge at once.
    runAll('b0');
    const version = await build();
    const deployment = await a.deploy(version, { by: 'alice' });
    // A steps first and so holds the rollout.
    await a.runner.runOnce();
    expect(await a.leases.holderOf(rolloutLease(deployment.id))).toBe('coordinator-a');
    runAll(version, ['eu']);
    // B sees the canary converged too, but the rollout is A's: B writes nothing.
    await b.runner.runOnce();
    expect(await goalBuild('us')).toBeNull();
    // A "dies": it stops renewing. B takes over after the lease time and writes the next wave.
    await eventually(async () => {
      await b.runner.runOnce();
      return (await goalBuild('us')) === version;
    }, 10_000, 'coordinator B to take the rollout over');
    expect(await b.leases.holderOf(rolloutLease(deployment.id))).toBe('coordinator-b');
    // A comes back (a stalled process, not a dead one): its lease is gone, it writes nothing, and its fencing check says so.
    expect(await a.leases.stillHeld(rolloutLease(deployment.id))).toBe(false);
    await a.runner.runOnce();
    runAll(version);
    await a.runner.runOnce();
    expect(await a.get(deployment.id)).toMatchObject({ status: 'ROLLING' });
    await b.runner.runOnce();
    expect(await a.get(deployment.id)).toMatchObject({ status: 'CONVERGED' });
    // Every region's goal written exactly once, by one coordinator or the other.
    expect((await goalWrites(deployment.id)).map((w) => w.region).sort()).toEqual(['ap', 'eu', 'us']);
    // A converged rollout's lease is let go at once.
    expect(await b.leases.holderOf(rolloutLease(deployment.id))).toBeNull();
  });

  it('a deploy while another coordinator is starting one of the same service is refused with CONFLICT naming it; exactly one of two racing deploys starts', async () => {
    const first = await build();
    // Coordinator A is in the middle of starting a deploy of api (it holds the service's lease).
    await a.leases.acquire(serviceLease('api'));
    const refused = await b.deploy(first, { by: 'bob' }).catch((err: unknown) => err);
    expect(isFleetcastError(refused, 'CONFLICT')).toBe(true);
    expect((refused as Error).message).toMatch(/another coordinator \(coordinator-a\) is starting or writing a rollout of api right now; this request changed nothing/);
    expect(await dbA.query(`SELECT id FROM deployments`)).toHaveLength(0);
    await a.leases.release(serviceLease('api'));

    const second = await build();
    const results = await Promise.allSettled([a.deploy(first, { by: 'alice' }), b.deploy(second, { by: 'bob' })]);
    const started = results.filter((r) => r.status === 'fulfilled');
    const conflicts = results.filter((r) => r.status === 'rejected' && isFleetcastError(r.reason, 'CONFLICT'));
    expect(started).toHaveLength(1);
    expect(conflicts).toHaveLength(1);
    const rolling = await dbA.query(`SELECT id FROM deployments WHERE service = 'api' AND status IN ('ROLLING', 'WRITING')`);
    expect(rolling).toHaveLength(1);
  });

  it('an abort through the coordinator that does not step the rollout takes it over and rolls back once', async () => {
    const before = await build();
    const first = await a.deploy(before, { by: 'alice', regions });
    runAll(before);
    await a.runner.runOnce();
    expect(await a.get(first.id)).toMatchObject({ status: 'CONVERGED' });
    const version = await build();
    const deployment = await a.deploy(version, { by: 'alice' });
    await a.runner.runOnce();
    expect(await a.leases.holderOf(rolloutLease(deployment.id))).toBe('coordinator-a');
    await b.control('abort', deployment.id, { by: 'carol', reason: 'bad canary' });
    // A's next round leaves the rollback alone: B holds the rollout now.
    await a.runner.runOnce();
    const aborted = await a.get(deployment.id);
    expect(aborted).toMatchObject({ status: 'ABORTED' });
    expect(aborted.rollback).toMatch(/^d\d+$/);
    expect(await goalBuild('eu')).toBe(before);
    const rollbacks = await dbA.query(`SELECT id FROM deployments WHERE service = 'api' AND kind = 'rollback'`);
    expect(rollbacks).toHaveLength(1);
  });
});
