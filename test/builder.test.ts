// Builder workers end to end against MariaDB, a real git repository and each blob store
// (the filesystem store, and the GCS store through the real client against a local fake).
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { text } from 'node:stream/consumers';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createBlobStore, artifactObjectName, logObjectName, type BlobStore } from '../blobstore/index.ts';
import { openMainStore } from '../blobstore/from-config.ts';
import { loadBuilderConfig, runBuilder, type BuilderHandle } from '../builder/index.ts';
import { BuildQueue, Reaper, type Build } from '../queue/index.ts';
import { ServiceRegistry } from '../queue/services/index.ts';
import { Database } from '../entities/index.ts';
import { freshDatabase, type TestDatabase } from './support/databases.ts';
import { FakeGcsServer } from './support/fake-gcs-server.ts';
import { SampleRepo } from './support/git-repo.ts';
import { spawnTs, type JsonProcess } from './support/processes.ts';

const buildScript = `#!/bin/sh
set -e
echo "building $FLEETCAST_SERVICE $FLEETCAST_BUILD_ID at $FLEETCAST_COMMIT"
printf 'binary of %s %s\\n' "$FLEETCAST_BUILD_ID" "$FLEETCAST_COMMIT" > "$FLEETCAST_OUT"
cat VERSION >> "$FLEETCAST_OUT"
echo done
`;

describe.each(['fs', 'gcs'] as const)('builder with the %s store', (kind) => {
  let testDb: TestDatabase;
  let db: Database;
  let dataDir: string;
  let gcs: FakeGcsServer | undefined;
  let repo: SampleRepo;
  let queue: BuildQueue;
  let services: ServiceRegistry;
  let store: BlobStore;
  let env: Record<string, string>;
  const builders: BuilderHandle[] = [];
  const processes: JsonProcess[] = [];

  const startBuilder = async (extra: Record<string, string> = {}) => {
    const handle = await runBuilder(loadBuilderConfig({ env: { ...env, ...extra } }), { pollIntervalMs: 50 });
    builders.push(handle);
    return handle;
  };
  const finished = async (id: number): Promise<Build> => {
    await expect.poll(async () => (await queue.get(id)).status, { timeout: 30_000, interval: 100 }).toMatch(/SUCCEEDED|FAILED/);
    return queue.get(id);
  };
  const addService = (name: string, buildCommand: string, artifactPath = 'out/app.bin') =>
    services.add({ name, repo: repo.dir, buildCommand, artifactPath });

  beforeEach(async () => {
    testDb = await freshDatabase('mysql');
    db = await Database.open({ url: testDb.url });
    services = new ServiceRegistry(db);
    queue = new BuildQueue(db, services, { maxAttempts: 2 });
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'fleetcast-builder-'));
    repo = SampleRepo.create();
    env = {
      ...testDb.env,
      FLEETCAST_DATA_DIR: dataDir,
      FLEETCAST_BLOBSTORE: kind,
      FLEETCAST_WORKER_ID: 'builder-1',
      FLEETCAST_HEARTBEAT_INTERVAL: '200ms',
      FLEETCAST_BUILD_TIMEOUT: '60s',
      FLEETCAST_MIN_FREE_DISK: '1M',
      FLEETCAST_GIT_ALLOW_FILE: 'true',
      FLEETCAST_LOG_LEVEL: 'silent',
    };
    if (kind === 'gcs') {
      gcs = await FakeGcsServer.start();
      env.FLEETCAST_GCS_ENDPOINT = gcs.url;
      env.FLEETCAST_GCS_PROJECT = 'test';
      await (await createBlobStore({ kind: 'gcs', bucket: 'fleetcast-main', gcs: { apiEndpoint: gcs.url, projectId: 'test', createBucket: true } })).close();
    }
    store = await openMainStore(loadBuilderConfig({ env }));
  });

  afterEach(async () => {
    for (const child of processes.splice(0)) {
      child.kill('SIGKILL');
      await child.exited;
    }
    for (const builder of builders.splice(0)) await builder.stop();
    await store.close();
    await gcs?.close();
    await db.close();
    await testDb.drop();
    repo.remove();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('builds a commit, stores the verified artifact in the main bucket, and keeps the log', async () => {
    const sha = repo.commit({ 'build.sh': buildScript, VERSION: 'v1\n' }, 'Add the v1 build\n\nwith a body that is not the subject');
    await addService('api', 'sh build.sh');
    const { build } = await queue.submit({ service: 'api', commit: sha.slice(0, 10) });
    await startBuilder();

    const done = await finished(build.id);
    expect(done).toMatchObject({ status: 'SUCCEEDED', claimedBy: 'builder-1', failureReason: null, commitAuthor: 'Dev <dev@example.com>', commitSubject: 'Add the v1 build' });
    const expected = `binary of b${build.id} ${sha}\nv1\n`;
    expect(done.digest).toBe(createHash('sha256').update(expected).digest('hex'));
    expect(done.size).toBe(Buffer.byteLength(expected));

    const name = artifactObjectName('api', build.id, done.digest!);
    expect(await store.stat(name)).toMatchObject({ size: done.size, sha256: done.digest });
    expect(await text(await store.get(name))).toBe(expected);

    const log = (await store.readLog(logObjectName('api', build.id))).data.toString();
    expect(log).toContain(`building api b${build.id} at ${sha}`);
    expect(log).toContain('==> stored and verified as fleetcast-main/');
  });

  it('reuses its git mirror and fetches commits pushed after the first build', async () => {
    const first = repo.commit({ 'build.sh': buildScript, VERSION: 'v1\n' });
    await addService('api', 'sh build.sh');
    await startBuilder();
    const one = (await queue.submit({ service: 'api', commit: first })).build;
    expect((await finished(one.id)).status).toBe('SUCCEEDED');

    const second = repo.commit({ VERSION: 'v2\n' });
    const two = (await queue.submit({ service: 'api', commit: second })).build;
    expect((await finished(two.id)).status).toBe('SUCCEEDED');
    expect(fs.readdirSync(path.join(dataDir, 'builder', 'git'))).toEqual(['api.git']);
    expect(await text(await store.get(artifactObjectName('api', two.id, (await queue.get(two.id)).digest!)))).toContain('v2');
  });

  it('fails builds with reasons a person can act on, and keeps working', async () => {
    const sha = repo.commit({ 'build.sh': buildScript, VERSION: 'v1\n' });
    // A sleep this test can find among the machine's processes (the sandbox has its own pids), one per store kind.
    const sleeper = `3600.${process.pid}${kind.length}`;
    await addService('broken', 'echo compiling; echo "error: missing semicolon" >&2; exit 3');
    await addService('lazy', 'echo nothing to see');
    await addService('slow', `sleep ${sleeper} & wait`);
    await addService('api', 'sh build.sh');
    await startBuilder({ FLEETCAST_BUILD_TIMEOUT: '3s' });

    const broken = await finished((await queue.submit({ service: 'broken', commit: sha })).build.id);
    expect(broken.status).toBe('FAILED');
    expect(broken.failureReason).toBe('build command exited with code 3; last lines:\ncompiling\nerror: missing semicolon');

    const lazy = await finished((await queue.submit({ service: 'lazy', commit: sha })).build.id);
    expect(lazy.failureReason).toMatch(/^artifact missing at out\/app\.bin/);

    const unknown = await finished((await queue.submit({ service: 'api', commit: 'deadbeefdeadbeef' })).build.id);
    expect(unknown.failureReason).toBe(`commit deadbeefdeadbeef not found in ${repo.dir} (fetched its branches and tags); check the sha and that it was pushed`);

    const slow = await finished((await queue.submit({ service: 'slow', commit: sha })).build.id);
    expect(slow.failureReason).toMatch(/^timed out after 3 s: the build command was killed/);
    // The whole process group went, not only the shell.
    await expect.poll(() => processesWithArgument(sleeper), { timeout: 10_000 }).toEqual([]);

    const good = await finished((await queue.submit({ service: 'api', commit: sha })).build.id);
    expect(good.status).toBe('SUCCEEDED');
  });

  it('refuses to build without enough free disk, saying where and how much', async () => {
    const sha = repo.commit({ 'build.sh': buildScript, VERSION: 'v1\n' });
    await addService('api', 'sh build.sh');
    await startBuilder({ FLEETCAST_MIN_FREE_DISK: '1000000T' });
    const build = await finished((await queue.submit({ service: 'api', commit: sha })).build.id);
    expect(build.failureReason).toMatch(/^not enough disk on worker builder-1: .* free in .*workspaces\/builder-1, 1000000 TiB needed \(FLEETCAST_MIN_FREE_DISK\)/);
  });

  it('on SIGTERM a worker gives its running build back to the queue and exits cleanly', async () => {
    const sha = repo.commit({ 'build.sh': 'echo started; sleep 30\n' });
    await addService('slow', 'sh build.sh');
    const { build } = await queue.submit({ service: 'slow', commit: sha });
    const worker = spawnTs('bin/fleetcast.js', { ...env, FLEETCAST_WORKER_ID: 'polite', FLEETCAST_LOG_LEVEL: 'warn' }, ['worker']);
    processes.push(worker);
    await expect.poll(async () => (await queue.get(build.id)).status, { timeout: 30_000, interval: 50 }).toBe('RUNNING');
    await expect
      .poll(async () => (await store.readLog(logObjectName('slow', build.id)).catch(() => ({ data: Buffer.alloc(0) }))).data.toString(), { timeout: 30_000 })
      .toContain('started');
    worker.kill('SIGTERM');
    expect(await worker.exited).toEqual({ code: 0, signal: null });
    expect(await queue.get(build.id)).toMatchObject({ status: 'QUEUED', attempts: 0, claimedBy: null });
  });

  it('a worker killed with -9 mid-build takes its sandboxed build with it (the watchdog kills the whole sandbox)', async () => {
    const sleeper = `3600.${process.pid}9${kind.length}`;
    const sha = repo.commit({ 'build.sh': `echo started; sleep ${sleeper} & wait\n` });
    await addService('stuck', 'sh build.sh');
    const { build } = await queue.submit({ service: 'stuck', commit: sha });
    const doomed = spawnTs('bin/fleetcast.js', { ...env, FLEETCAST_WORKER_ID: 'doomed', FLEETCAST_LOG_LEVEL: 'warn' }, ['worker']);
    processes.push(doomed);
    await expect.poll(() => processesWithArgument(sleeper).length, { timeout: 30_000, interval: 100 }).toBe(1);
    const bwrap = processesWithArgument('--die-with-parent').filter((pid) => fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(`/workspaces/doomed/b${build.id}-1`));
    expect(bwrap.length).toBeGreaterThan(0);
    doomed.kill('SIGKILL');
    await doomed.exited;
    await expect.poll(() => [...processesWithArgument(sleeper), ...bwrap.filter((pid) => fs.existsSync(`/proc/${pid}`))], { timeout: 10_000 }).toEqual([]);
    expect((await queue.get(build.id)).status).toBe('RUNNING');
  });

  it('a worker killed with -9 during the upload never yields SUCCEEDED without the verified object; the retry does', async () => {
    // 300 MB of output keeps the upload busy long enough to be killed in the middle of it.
    const sha = repo.commit({ 'build.sh': 'head -c 300000000 /dev/urandom > "$FLEETCAST_OUT"\n' });
    await addService('big', 'sh build.sh');
    const { build } = await queue.submit({ service: 'big', commit: sha });
    const doomed = spawnTs('bin/fleetcast.js', { ...env, FLEETCAST_WORKER_ID: 'doomed', FLEETCAST_LOG_LEVEL: 'warn' }, ['worker']);
    processes.push(doomed);
    await expect
      .poll(async () => (await store.readLog(logObjectName('big', build.id)).catch(() => ({ data: Buffer.alloc(0) }))).data.toString(), {
        timeout: 60_000,
        interval: 20,
      })
      .toContain('==> uploading');
    doomed.kill('SIGKILL');
    await doomed.exited;

    const afterKill = await queue.get(build.id);
    expect(afterKill.status).toBe('RUNNING');
    expect(afterKill.digest).toBeNull();

    const reaper = new Reaper(db, { heartbeatTimeoutMs: 1_000, intervalMs: 200 });
    reaper.start();
    try {
      await startBuilder();
      const done = await finished(build.id);
      expect(done).toMatchObject({ status: 'SUCCEEDED', attempts: 2, claimedBy: 'builder-1' });
      const stored = await store.stat(artifactObjectName('big', build.id, done.digest!));
      expect(stored).toMatchObject({ size: 300_000_000, sha256: done.digest });
    } finally {
      await reaper.stop();
    }
  }, 120_000);
});

/** Pids of the machine's processes with this exact argument. */
function processesWithArgument(argument: string): number[] {
  return fs
    .readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .filter((pid) => {
      try {
        return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').includes(argument);
      } catch {
        return false;
      }
    })
    .map(Number);
}
