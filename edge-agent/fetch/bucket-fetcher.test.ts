// The bucket fetcher against a real filesystem bucket: whole reads, resumed reads, bad and
// missing objects, aborts, the rate cap and a full disk (a real tmpfs).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FsBlobStore, type GetOptions } from '../../blobstore/index.ts';
import { isFleetcastError } from '../../errors/index.ts';
import { mountTmpfs } from '../../test/support/tmpfs.ts';
import { RateLimiter } from '../limits/rate-limiter.ts';
import { sha256, storeArtifact } from '../../test/support/agent-artifacts.ts';
import type { FetchProgress } from './artifact-fetcher.ts';
import { BucketFetcher } from './bucket-fetcher.ts';

const MiB = 1 << 20;
let dir: string;
let store: FsBlobStore;
let gets: (GetOptions | undefined)[];

beforeEach(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fleetcast-bucket-fetcher-'));
  store = await FsBlobStore.open({ root: path.join(dir, 'buckets'), bucket: 'fleetcast-eu', fsync: false });
  gets = [];
  const get = store.get.bind(store);
  store.get = (name, options) => {
    gets.push(options);
    return get(name, options);
  };
});

afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

/** Counts what passes the cap, at an unlimited rate. */
class CountingLimiter extends RateLimiter {
  taken = 0;
  constructor() {
    super(null);
  }
  override take(bytes: number, signal?: AbortSignal): Promise<void> {
    this.taken += bytes;
    return super.take(bytes, signal);
  }
}

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a rejection');
}

describe('BucketFetcher', () => {
  it('writes the whole build, hashing it, through the rate cap, with progress up to the size', async () => {
    const artifact = await storeArtifact([store], 'api', 1, 5 * MiB + 123);
    const limiter = new CountingLimiter();
    const progress: FetchProgress[] = [];
    const destination = path.join(dir, 'api.partial');
    const result = await new BucketFetcher({ store, limiter }).fetch({ goal: artifact.goal('eu'), destination, signal: new AbortController().signal, onProgress: (p) => progress.push(p) });
    expect(result).toEqual({ sha256: artifact.digest, bytesFromPeers: 0, bytesFromBucket: artifact.bytes.length });
    expect(sha256(fs.readFileSync(destination))).toBe(artifact.digest);
    expect(limiter.taken).toBe(artifact.bytes.length);
    expect(progress.at(-1)).toEqual({ bytes: artifact.bytes.length, total: artifact.bytes.length, peers: 0, source: 'bucket' });
    expect(progress.map((p) => p.bytes)).toEqual([...progress.map((p) => p.bytes)].sort((a, b) => a - b));
  });

  it('resumes a partial file with a range read of the rest and hashes the whole file', async () => {
    const artifact = await storeArtifact([store], 'api', 2, 4 * MiB);
    const destination = path.join(dir, 'api.partial');
    fs.writeFileSync(destination, artifact.bytes.subarray(0, 3 * MiB + 7));
    const limiter = new CountingLimiter();
    const result = await new BucketFetcher({ store, limiter }).fetch({ goal: artifact.goal('eu'), destination, signal: new AbortController().signal });
    expect(result.sha256).toBe(artifact.digest);
    expect(result.bytesFromBucket).toBe(artifact.bytes.length - (3 * MiB + 7));
    expect(gets).toEqual([{ range: { start: 3 * MiB + 7 }, verify: false }]);
    expect(limiter.taken).toBe(result.bytesFromBucket);
    expect(sha256(fs.readFileSync(destination))).toBe(artifact.digest);
  });

  it('a damaged prefix shows in the sha256 it returns (the agent discards the file); a too-long file starts over', async () => {
    const artifact = await storeArtifact([store], 'api', 3, 2 * MiB);
    const destination = path.join(dir, 'api.partial');
    const damaged = Buffer.from(artifact.bytes.subarray(0, MiB));
    damaged[100] = damaged[100]! ^ 0xff;
    fs.writeFileSync(destination, damaged);
    const fetcher = new BucketFetcher({ store });
    const result = await fetcher.fetch({ goal: artifact.goal('eu'), destination, signal: new AbortController().signal });
    expect(result.sha256).not.toBe(artifact.digest);

    fs.writeFileSync(destination, Buffer.alloc(3 * MiB));
    const again = await fetcher.fetch({ goal: artifact.goal('eu'), destination, signal: new AbortController().signal });
    expect(again).toMatchObject({ sha256: artifact.digest, bytesFromBucket: 2 * MiB });
  });

  it('a build missing from the bucket is NOT_FOUND naming the build, bucket and object', async () => {
    const artifact = await storeArtifact([], 'api', 4, 1000);
    const destination = path.join(dir, 'api.partial');
    const err = await rejection(new BucketFetcher({ store }).fetch({ goal: artifact.goal('eu'), destination, signal: new AbortController().signal }));
    expect(isFleetcastError(err, 'NOT_FOUND')).toBe(true);
    expect(err.message).toContain('build b4 of api is not in the regional bucket fleetcast-eu');
    expect(err.message).toContain(artifact.goal('eu').artifact);
    expect(fs.existsSync(destination)).toBe(false);
  });

  it('an object that is not the goal build is DIGEST_MISMATCH before a byte is written', async () => {
    const artifact = await storeArtifact([store], 'api', 5, 1000);
    const destination = path.join(dir, 'api.partial');
    const goal = { ...artifact.goal('eu'), digest: 'f'.repeat(64) };
    const err = await rejection(new BucketFetcher({ store }).fetch({ goal, destination, signal: new AbortController().signal }));
    expect(isFleetcastError(err, 'DIGEST_MISMATCH')).toBe(true);
    expect(err.message).toMatch(/b5 of api in bucket fleetcast-eu .*expected f{64}/);
    expect(gets).toEqual([]);
    expect(fs.existsSync(destination)).toBe(false);
  });

  it('an abort rejects with its reason and leaves the prefix written so far', async () => {
    const artifact = await storeArtifact([store], 'api', 6, 4 * MiB);
    const destination = path.join(dir, 'api.partial');
    const controller = new AbortController();
    // Slow enough that the abort lands mid-way: 1 MiB/s with a 64 KiB burst.
    const fetcher = new BucketFetcher({ store, limiter: new RateLimiter(MiB, { burstBytes: 64 * 1024 }), chunkSize: 64 * 1024 });
    const fetching = fetcher.fetch({
      goal: artifact.goal('eu'),
      destination,
      signal: controller.signal,
      onProgress: (p) => {
        if (p.bytes >= 256 * 1024) controller.abort(new Error('superseded'));
      },
    });
    expect((await rejection(fetching)).message).toBe('superseded');
    const kept = fs.readFileSync(destination);
    expect(kept.length).toBeGreaterThan(0);
    expect(kept.length).toBeLessThan(artifact.bytes.length);
    expect(kept.equals(artifact.bytes.subarray(0, kept.length))).toBe(true);
  });

  it('a full disk is DISK_FULL naming the file and what to do', async () => {
    const artifact = await storeArtifact([store], 'api', 7, 4 * MiB);
    const mount = path.join(dir, 'tiny');
    const unmount = mountTmpfs(mount, '2m');
    try {
      const destination = path.join(mount, 'api.partial');
      const err = await rejection(new BucketFetcher({ store }).fetch({ goal: artifact.goal('eu'), destination, signal: new AbortController().signal }));
      expect(isFleetcastError(err, 'DISK_FULL')).toBe(true);
      expect(err.message).toContain(`no space left on the disk holding ${destination} while downloading b7 of api`);
      expect(err.message).toMatch(/running build is untouched/);
    } finally {
      unmount();
    }
  });
});
