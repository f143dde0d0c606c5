// Fetching and installing one service's builds, with a real filesystem bucket behind the real
// bucket fetcher: a verified install, wrong bytes discarded, an abort that keeps its bytes,
// cache upkeep that never removes a protected build.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FsBlobStore } from '../../blobstore/index.ts';
import { isFleetcastError } from '../../errors/index.ts';
import type { StatusUpdate } from '../../goalstate/index.ts';
import { silentLogger } from '../../logging/index.ts';
import { storeArtifact } from '../../test/support/agent-artifacts.ts';
import { BucketFetcher } from '../fetch/bucket-fetcher.ts';
import { RateLimiter } from '../limits/rate-limiter.ts';
import { AgentLayout } from './agent-layout.ts';
import { BuildCache } from './build-cache.ts';
import { BuildInstaller } from './build-installer.ts';

let dir: string;
let store: FsBlobStore;
let layout: AgentLayout;
let cache: BuildCache;
let protect: Set<string>;
let changes: number;

beforeEach(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fleetcast-installer-'));
  store = await FsBlobStore.open({ root: path.join(dir, 'buckets'), bucket: 'fleetcast-eu', fsync: false });
  layout = new AgentLayout(path.join(dir, 'agent'));
  cache = new BuildCache(layout, silentLogger());
  protect = new Set();
  changes = 0;
});

afterEach(async () => {
  await store.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

function installer(cacheBuilds = 3): BuildInstaller {
  return new BuildInstaller(
    {
      service: 'api',
      layout,
      cache,
      fetcher: new BucketFetcher({ store, limiter: new RateLimiter(null), logger: silentLogger() }),
      protectedBuilds: () => new Set(protect),
      onCacheChanged: () => changes++,
      logger: silentLogger(),
    },
    { cacheBuilds, minFreeBytes: 0 },
  );
}

const quiet = { report: () => undefined, mayEmptyCache: true };

describe('BuildInstaller', () => {
  it('fetches into .partial, checks the sha256, renames the file into place as an executable and marks it verified', async () => {
    const a = await storeArtifact([store], 'api', 1, 70_000);
    const reports: StatusUpdate[] = [];
    const installed = await installer().download(a.goal('eu'), new AbortController().signal, silentLogger(), { report: (u) => reports.push(u), mayEmptyCache: true });
    expect(installed.file).toBe(layout.artifact('api', 'b1', 'api'));
    expect(fs.readFileSync(installed.file).equals(a.bytes)).toBe(true);
    expect(fs.statSync(installed.file).mode & 0o111).not.toBe(0);
    expect(fs.existsSync(layout.partial('api', 'b1'))).toBe(false);
    expect(await cache.installed('api', 'b1')).toMatchObject({ goal: { digest: a.digest }, fetched: { fromPeers: 0, fromBucket: 70_000 } });
    expect(reports[0]).toMatchObject({ state: 'downloading', bytes: 0, total: 70_000 });
    expect(reports.at(-1)).toMatchObject({ state: 'verifying', bytes: 70_000 });
    expect(changes).toBe(1);
  });

  it('bytes that are not the build are discarded: DIGEST_MISMATCH, nothing installed', async () => {
    const a = await storeArtifact([store], 'api', 2, 5_000);
    // The goal names another digest than the bucket's object holds (the fetcher's own check catches it first).
    const goal = a.goal('eu', { digest: 'f'.repeat(64) });
    const err = await installer().download(goal, new AbortController().signal, silentLogger(), quiet).catch((e: unknown) => e);
    expect(isFleetcastError(err, 'DIGEST_MISMATCH')).toBe(true);
    expect(fs.existsSync(layout.partial('api', 'b2'))).toBe(false);
    expect(await cache.installed('api', 'b2')).toBeUndefined();
  });

  it('an aborted download rejects with the reason and keeps what it wrote for the next try', async () => {
    const a = await storeArtifact([store], 'api', 3, 50_000);
    fs.mkdirSync(layout.buildDir('api', 'b3'), { recursive: true });
    fs.writeFileSync(layout.partial('api', 'b3'), a.bytes.subarray(0, 20_000));
    const controller = new AbortController();
    controller.abort(new Error('superseded'));
    await expect(installer().download(a.goal('eu'), controller.signal, silentLogger(), quiet)).rejects.toThrow('superseded');
    expect(fs.statSync(layout.partial('api', 'b3')).size).toBe(20_000);
  });

  it('cache upkeep keeps the protected builds and the newest up to the limit', async () => {
    const one = installer(2);
    for (let n = 1; n <= 4; n++) await one.download((await storeArtifact([store], 'api', n, 1_000)).goal('eu'), new AbortController().signal, silentLogger(), quiet);
    protect = new Set(['b1']);
    await one.collect(null);
    // b1 (protected) and the newest other (b4) stay: two in all.
    expect((await cache.verified('api')).map((b) => b.goal.build).sort()).toEqual(['b1', 'b4']);
  });
});
