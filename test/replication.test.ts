// Replication to three regions on the filesystem store and on the GCS store (real client,
// local fake): deployable only once every region is verified, failing regions named, lost
// or damaged copies repaired by the audit, regions added later filled in, and a replicator
// killed with -9 mid-copy replaced.
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createBlobStore, artifactObjectName, type FleetBlobStores } from '../blobstore/index.ts';
import { blobStoreSettings, openFleetStores } from '../blobstore/from-config.ts';
import { loadConfig } from '../config/index.ts';
import { BuildQueue, type Build } from '../queue/index.ts';
import { Replicator, ReplicationQueue, ReplicationService } from '../coordinator/replication/index.ts';
import { ServiceRegistry } from '../queue/services/index.ts';
import { Database } from '../entities/index.ts';
import { freshDatabase, type TestDatabase } from './support/databases.ts';
import { FakeGcsServer } from './support/fake-gcs-server.ts';
import { spawnTs } from './support/processes.ts';

const regions = ['eu', 'us', 'ap'];

describe.each(['fs', 'gcs'] as const)('replication with the %s store', (kind) => {
  let testDb: TestDatabase;
  let db: Database;
  let dataDir: string;
  let gcs: FakeGcsServer | undefined;
  let env: Record<string, string>;
  let stores: FleetBlobStores;
  let queue: BuildQueue;
  const stoppers: (() => Promise<void>)[] = [];

  const openStores = (names: string[]) => openFleetStores(loadConfig(blobStoreSettings, { env }), names);
  const service = (names: string[], extra: Partial<ConstructorParameters<typeof ReplicationService>[1]> = {}) => {
    const replication = new ReplicationService(db, {
      regions: names,
      stores,
      workerId: 'coordinator-1',
      heartbeatIntervalMs: 200,
      heartbeatTimeoutMs: 1_000,
      maxAttempts: 2,
      pacing: { plannerMs: 50, auditMs: 100, retentionMs: 100, reaperMs: 200, retryDelayMs: 50 },
      ...extra,
    });
    replication.start();
    stoppers.push(() => replication.stop());
    return replication;
  };
  const replicatorFor = (names: string[]) => {
    const regionStores = Object.fromEntries(names.map((name) => [name, stores.regions[name]!]));
    const replicator = new Replicator({ queue: new ReplicationQueue(db), main: stores.main, regions: regionStores, workerId: 'r1', heartbeatIntervalMs: 200, pollIntervalMs: 50 });
    replicator.start();
    stoppers.push(() => replicator.stop());
  };
  /** A SUCCEEDED build whose artifact is in the main bucket, as a builder leaves it. */
  const succeededBuild = async (bytes = randomBytes(3 * 1024 * 1024)): Promise<Build> => {
    const digest = createHash('sha256').update(bytes).digest('hex');
    const { build } = await queue.submit({ service: 'api', commit: randomBytes(20).toString('hex') });
    await stores.main.put(artifactObjectName('api', build.id, digest), Readable.from([bytes]), { sha256: digest, size: bytes.length });
    const claimed = (await queue.claim('builder'))!;
    return queue.succeed(claimed.claim, { digest, size: bytes.length });
  };
  const statusOf = async (replication: ReplicationService, build: Build) => replication.status.forBuild(build);

  beforeEach(async () => {
    testDb = await freshDatabase('mysql');
    db = await Database.open({ url: testDb.url });
    const services = new ServiceRegistry(db);
    await services.add({ name: 'api', repo: '/srv/git/api', buildCommand: 'make', artifactPath: 'api' });
    queue = new BuildQueue(db, services);
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'fleetcast-replication-'));
    env = { ...testDb.env, FLEETCAST_DATA_DIR: dataDir, FLEETCAST_BLOBSTORE: kind, FLEETCAST_LOG_LEVEL: 'silent' };
    if (kind === 'gcs') {
      gcs = await FakeGcsServer.start();
      env.FLEETCAST_GCS_ENDPOINT = gcs.url;
      env.FLEETCAST_GCS_PROJECT = 'test';
      for (const bucket of ['fleetcast-main', ...regions.map((r) => `fleetcast-${r}`)]) {
        await (await createBlobStore({ kind: 'gcs', bucket, gcs: { apiEndpoint: gcs.url, projectId: 'test', createBucket: true } })).close();
      }
    }
    stores = await openStores(regions);
  });

  afterEach(async () => {
    for (const stop of stoppers.splice(0).reverse()) await stop();
    await stores.main.close();
    for (const store of Object.values(stores.regions)) await store.close();
    await gcs?.close();
    await db.close();
    await testDb.drop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('makes a build deployable only once the third region holds a verified copy', async () => {
    const replication = service(regions, { concurrencyPerRegion: 0 });
    const build = await succeededBuild();
    replicatorFor(['eu', 'us']);
    await expect
      .poll(async () => (await statusOf(replication, build)).regions.map((r) => r.status), { timeout: 20_000 })
      .toEqual(['DONE', 'DONE', 'PENDING']);
    const partial = await statusOf(replication, build);
    expect(partial.deployable).toBe(false);
    expect(partial.reason).toBe(`build b${build.id} is not yet in every region: waiting for ap PENDING`);

    replicatorFor(['ap']);
    await expect.poll(async () => (await statusOf(replication, build)).deployable, { timeout: 20_000 }).toBe(true);
    for (const region of regions) {
      expect(await stores.regions[region]!.stat(artifactObjectName('api', build.id, build.digest!))).toMatchObject({ sha256: build.digest, size: build.size });
    }
  });

  it('names the region that keeps failing, and copies again when asked', async () => {
    let failing = true;
    if (gcs) gcs.failNext({ status: 403, count: 1_000_000, match: (request) => failing && request.url.includes('fleetcast-ap') });
    else breakFsBucket(dataDir, 'fleetcast-ap');
    const replication = service(regions);
    const build = await succeededBuild();
    await expect.poll(async () => (await statusOf(replication, build)).regions.find((r) => r.region === 'ap')?.status, { timeout: 20_000 }).toBe('FAILED');
    const status = await statusOf(replication, build);
    expect(status.deployable).toBe(false);
    expect(status.reason).toMatch(new RegExp(`^copies of b${build.id} failed in ap \\(ap: .+ \\(gave up after 2 attempts; retry with: fleetcast replicate\\)\\); retry with: fleetcast replicate b${build.id}$`));
    expect(status.regions.filter((r) => r.status === 'DONE').map((r) => r.region)).toEqual(['eu', 'us']);

    failing = false;
    if (!gcs) repairFsBucket(dataDir, 'fleetcast-ap');
    expect(await replication.retry(build.id, 'ap')).toBe(1);
    await expect.poll(async () => (await statusOf(replication, build)).deployable, { timeout: 20_000 }).toBe(true);
  });

  it('notices a regional copy deleted or damaged after DONE and copies it again', async () => {
    // Counted from the auditor's own log line: the row's failure_reason is cleared as soon as
    // the copy is redone, which on one disk (hard links) can happen between two polls.
    const lost: string[] = [];
    const logger = pino({ level: 'warn' }, { write: (line: string) => void (JSON.parse(line).msg === 'regional copy lost; copying again' && lost.push(JSON.parse(line).region)) });
    const replication = service(regions, { auditEveryMs: 100, logger });
    const build = await succeededBuild();
    await expect.poll(async () => (await statusOf(replication, build)).deployable, { timeout: 20_000 }).toBe(true);
    const name = artifactObjectName('api', build.id, build.digest!);

    await stores.regions.us!.delete(name);
    if (gcs) gcs.corruptNextDownloads(1);
    else corruptFsObject(dataDir, 'fleetcast-eu', name);
    // The audit sends both back to PENDING, the replicator copies them again.
    await expect.poll(() => [...new Set(lost)].sort(), { timeout: 20_000 }).toEqual(kind === 'fs' ? ['eu', 'us'] : expect.arrayContaining(['us']));
    await expect.poll(async () => (await statusOf(replication, build)).deployable, { timeout: 20_000 }).toBe(true);
    expect(await stores.regions.us!.stat(name)).toMatchObject({ sha256: build.digest });
  });

  it('fills in a region added to the configuration later', async () => {
    const first = service(['eu', 'us']);
    const build = await succeededBuild();
    await expect.poll(async () => (await statusOf(first, build)).deployable, { timeout: 20_000 }).toBe(true);
    await stoppers.pop()!();

    const widened = service(regions);
    await expect.poll(async () => (await statusOf(widened, build)).deployable, { timeout: 20_000 }).toBe(true);
    expect((await statusOf(widened, build)).regions.map((r) => r.region)).toEqual(regions);
  });

  it('retention removes old regional copies, keeps history, and says why such a build is not deployable', async () => {
    const replication = service(['eu'], { keepPerService: 1 });
    const old = await succeededBuild();
    await expect.poll(async () => (await statusOf(replication, old)).deployable, { timeout: 20_000 }).toBe(true);
    const fresh = await succeededBuild();
    await expect.poll(async () => (await statusOf(replication, old)).regions[0]!.removedAt, { timeout: 20_000 }).not.toBeNull();
    expect(await stores.regions.eu!.exists(artifactObjectName('api', old.id, old.digest!))).toBe(false);
    expect((await statusOf(replication, old)).reason).toBe(`build b${old.id} was removed from eu by the retention policy; build the commit again`);
    await expect.poll(async () => (await statusOf(replication, fresh)).deployable, { timeout: 20_000 }).toBe(true);
  });

  it('a replicator killed with -9 mid-copy is replaced and the copy completes', async () => {
    const replication = service(regions, { concurrencyPerRegion: 0 });
    const build = await succeededBuild(randomBytes(256 * 1024 * 1024));
    const doomed = spawnTs('bin/fleetcast.js', { ...env, FLEETCAST_REGIONS: regions.join(','), FLEETCAST_WORKER_ID: 'doomed', FLEETCAST_HEARTBEAT_INTERVAL: '200ms' }, ['replicator']);
    stoppers.push(async () => {
      doomed.kill('SIGKILL');
      await doomed.exited;
    });
    await expect
      .poll(async () => countWhere(db, `status = 'COPYING'`), { timeout: 30_000, interval: 10 })
      .toBeGreaterThan(0);
    doomed.kill('SIGKILL');
    await doomed.exited;
    expect((await statusOf(replication, build)).deployable).toBe(false);

    replicatorFor(regions);
    await expect.poll(async () => (await statusOf(replication, build)).deployable, { timeout: 60_000 }).toBe(true);
    const copies = await statusOf(replication, build);
    expect(copies.regions.every((r) => r.status === 'DONE')).toBe(true);
    for (const region of regions) {
      expect(await stores.regions[region]!.stat(artifactObjectName('api', build.id, build.digest!))).toMatchObject({ sha256: build.digest });
    }
  }, 120_000);
});

async function countWhere(db: Database, condition: string): Promise<number> {
  const [row] = await db.query<{ n: number | string }>(`SELECT COUNT(*) AS n FROM replications WHERE ${condition}`);
  return Number(row!.n);
}

function bucketDir(dataDir: string, bucket: string): string {
  return path.join(dataDir, 'buckets', bucket);
}

/** A bucket whose folder became a file: every write into it fails. */
function breakFsBucket(dataDir: string, bucket: string): void {
  fs.renameSync(bucketDir(dataDir, bucket), `${bucketDir(dataDir, bucket)}.away`);
  fs.writeFileSync(bucketDir(dataDir, bucket), 'not a folder');
}

function repairFsBucket(dataDir: string, bucket: string): void {
  fs.rmSync(bucketDir(dataDir, bucket));
  fs.renameSync(`${bucketDir(dataDir, bucket)}.away`, bucketDir(dataDir, bucket));
}

/**
 * Flips one byte of the stored object behind the store's back. The file is rewritten, not
 * patched in place: the fs store hard-links copies between buckets on one disk, and real
 * regional buckets do not share a disk.
 */
function corruptFsObject(dataDir: string, bucket: string, name: string): void {
  const file = path.join(bucketDir(dataDir, bucket), name);
  const bytes = fs.readFileSync(file);
  bytes[1000] = bytes[1000]! ^ 0xff;
  fs.writeFileSync(`${file}.corrupt`, bytes);
  fs.renameSync(`${file}.corrupt`, file);
}
