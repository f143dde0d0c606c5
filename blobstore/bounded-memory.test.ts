// A 10 GB artifact must pass through with bounded memory: put and get a 200 MB object made on
// the fly (never held whole anywhere) and watch this process's resident memory meanwhile. For
// GCS and S3 the local server runs in this process too, so its buffers count against the limit as well.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BlobStore, BlobStoreKind } from './blob-store.ts';
import { generatedSha256, generatedStream, openSite, sha256Of, type StoreSite } from '../test/support/blob-stores.ts';

const MB = 1_000_000;
const size = 200 * MB;
const limit = 100 * MB;

describe.each<BlobStoreKind>(['fs', 'gcs', 's3'])('bounded memory: %s', (kind) => {
  let site: StoreSite;
  let store: BlobStore;
  let sha256: string;

  beforeAll(async () => {
    site = await openSite(kind);
    store = await site.open('fleetcast-main');
    sha256 = await generatedSha256(size, 99);
    // Warm up: load every module and open every connection before measuring.
    await store.put('warm/up', generatedStream(4 * MB, 1));
    await sha256Of(await store.get('warm/up'));
  });

  afterAll(async () => {
    await site.close();
  });

  /** Peak RSS growth over the RSS before `work`, sampled every 5 ms. */
  async function rssGrowthDuring(work: () => Promise<void>): Promise<number> {
    const before = process.memoryUsage.rss();
    let peak = before;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 5);
    try {
      await work();
    } finally {
      clearInterval(sampler);
    }
    return Math.max(peak, process.memoryUsage.rss()) - before;
  }

  it(`puts a ${size / MB} MB stream with RSS growth under ${limit / MB} MB`, async () => {
    const growth = await rssGrowthDuring(async () => {
      const info = await store.put('big/object', generatedStream(size, 99), { sha256, size });
      expect(info.size).toBe(size);
    });
    expect(growth, `RSS grew by ${(growth / MB).toFixed(1)} MB`).toBeLessThan(limit);
  });

  it(`gets it back, verified, with RSS growth under ${limit / MB} MB`, async () => {
    const growth = await rssGrowthDuring(async () => {
      expect(await sha256Of(await store.get('big/object'))).toBe(sha256);
    });
    expect(growth, `RSS grew by ${(growth / MB).toFixed(1)} MB`).toBeLessThan(limit);
  });
});
