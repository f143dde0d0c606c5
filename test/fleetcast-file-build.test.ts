// A repository's fleetcast.yml, read by a real builder (MariaDB, a real git repository, the
// filesystem store) at the built commit: its build command and artifact are used, what the build
// used is recorded with it, and a bad file fails the build with the reason and line.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { text } from 'node:stream/consumers';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { artifactObjectName, logObjectName, type BlobStore } from '../blobstore/index.ts';
import { openMainStore } from '../blobstore/from-config.ts';
import { loadBuilderConfig, runBuilder, type BuilderHandle } from '../builder/index.ts';
import { BuildQueue, type Build } from '../queue/index.ts';
import { ServiceRegistry } from '../queue/services/index.ts';
import { Database } from '../entities/index.ts';
import { freshDatabase, type TestDatabase } from './support/databases.ts';
import { SampleRepo } from './support/git-repo.ts';

let testDb: TestDatabase;
let db: Database;
let dataDir: string;
let repo: SampleRepo;
let queue: BuildQueue;
let services: ServiceRegistry;
let store: BlobStore;
let builder: BuilderHandle;

const finished = async (id: number): Promise<Build> => {
  await expect.poll(async () => (await queue.get(id)).status, { timeout: 30_000, interval: 100 }).toMatch(/SUCCEEDED|FAILED/);
  return queue.get(id);
};

beforeEach(async () => {
  testDb = await freshDatabase('mysql');
  db = await Database.open({ url: testDb.url });
  services = new ServiceRegistry(db);
  queue = new BuildQueue(db, services, { maxAttempts: 1 });
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'fleetcast-yml-'));
  repo = SampleRepo.create();
  const env = {
    ...testDb.env,
    FLEETCAST_DATA_DIR: dataDir,
    FLEETCAST_BLOBSTORE: 'fs',
    FLEETCAST_WORKER_ID: 'builder-1',
    FLEETCAST_HEARTBEAT_INTERVAL: '200ms',
    FLEETCAST_BUILD_TIMEOUT: '60s',
    FLEETCAST_MIN_FREE_DISK: '1M',
    FLEETCAST_GIT_ALLOW_FILE: 'true',
    FLEETCAST_LOG_LEVEL: 'silent',
  };
  store = await openMainStore(loadBuilderConfig({ env }));
  await services.add({ name: 'api', repo: repo.dir, buildCommand: 'echo service-build > "$FLEETCAST_OUT"', artifactPath: 'out/app.bin', runCommand: './app.bin', healthUrl: 'http://127.0.0.1:9000/up' });
  builder = await runBuilder(loadBuilderConfig({ env }), { pollIntervalMs: 50 });
});

afterEach(async () => {
  await builder?.stop();
  await store.close();
  await db.close();
  await testDb.drop();
  repo.remove();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

it('builds with the commands of fleetcast.yml at the commit and records what the build used', async () => {
  const sha = repo.commit({
    'fleetcast.yml': [
      'build: mkdir -p dist && echo yml-build > dist/api.bin',
      'artifact: dist/api.bin',
      'run: ./api.bin --port 8080',
      'health: http://127.0.0.1:8080/healthz',
      'waves: eu;us',
      'gates:',
      '  - url: https://status.example.com/ok',
      '',
    ].join('\n'),
  });
  const done = await finished((await queue.submit({ service: 'api', commit: sha })).build.id);
  expect(done.status, done.failureReason ?? '').toBe('SUCCEEDED');
  expect(done.artifact).toBe('dist/api.bin');
  expect(done.used).toEqual({
    buildCommand: 'mkdir -p dist && echo yml-build > dist/api.bin',
    artifact: 'dist/api.bin',
    runCommand: './api.bin --port 8080',
    healthUrl: 'http://127.0.0.1:8080/healthz',
    config: { source: 'fleetcast.yml', waves: 'eu;us', gates: [{ url: 'https://status.example.com/ok' }] },
  });
  expect(await text(await store.get(artifactObjectName('api', done.id, done.digest!)))).toBe('yml-build\n');
  expect((await store.readLog(logObjectName('api', done.id))).data.toString()).toContain('==> using fleetcast.yml of');
});

it('without fleetcast.yml records the service settings the build used', async () => {
  const sha = repo.commit({ README: 'no config here\n' });
  const done = await finished((await queue.submit({ service: 'api', commit: sha })).build.id);
  expect(done.status, done.failureReason ?? '').toBe('SUCCEEDED');
  expect(done.used).toEqual({ buildCommand: 'echo service-build > "$FLEETCAST_OUT"', artifact: 'out/app.bin', runCommand: './app.bin', healthUrl: 'http://127.0.0.1:9000/up', config: { source: 'service' } });
});

it('fails the build when fleetcast.yml is bad, naming the line, before anything runs', async () => {
  const sha = repo.commit({ 'fleetcast.yml': 'build: touch ran\nartifact: out/app.bin\n\nrun:\n  - not a command\n' });
  const failed = await finished((await queue.submit({ service: 'api', commit: sha })).build.id);
  expect(failed.status).toBe('FAILED');
  expect(failed.failureReason).toMatch(/^fleetcast\.yml is invalid: line 5: run: /);
  expect(failed.used).toBeNull();

  const unparsable = repo.commit({ 'fleetcast.yml': 'build: [make\n' });
  const broken = await finished((await queue.submit({ service: 'api', commit: unparsable })).build.id);
  expect(broken.failureReason).toMatch(/^fleetcast\.yml is not valid YAML: line \d+/);
});
