// The fallback composer: peers first, the regional bucket (a real filesystem bucket and the
// real BucketFetcher) when peers do not deliver. The primaries are stand-ins for the P2P
// fetcher, which lives on the other side of the ArtifactFetcher seam.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FsBlobStore } from '../../blobstore/index.ts';
import { FleetcastError } from '../../errors/index.ts';
import { eventually } from '../../test/support/eventually.ts';
import { SilentFetcher, sha256, storeArtifact, type TestArtifact } from '../../test/support/agent-artifacts.ts';
import type { ArtifactFetcher, FetchProgress, FetchRequest, FetchResult } from './artifact-fetcher.ts';
import { BucketFetcher } from './bucket-fetcher.ts';
import { FallbackFetcher } from './fallback-fetcher.ts';

const MiB = 1 << 20;
let dir: string;
let store: FsBlobStore;
let artifact: TestArtifact;
let destination: string;

beforeEach(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fleetcast-fallback-'));
  store = await FsBlobStore.open({ root: path.join(dir, 'buckets'), bucket: 'fleetcast-eu', fsync: false });
  artifact = await storeArtifact([store], 'api', 1, 3 * MiB);
  destination = path.join(dir, 'api.partial');
});

afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

/** A primary that writes the first `bytes` of the artifact (as a P2P fetcher would), then behaves as told. */
class PartialPeers implements ArtifactFetcher {
  constructor(
    private readonly bytes: number,
    private readonly then: 'stall' | 'fail' | 'finish',
  ) {}

  async fetch(request: FetchRequest): Promise<FetchResult> {
    fs.writeFileSync(request.destination, artifact.bytes.subarray(0, this.bytes));
    request.onProgress?.({ bytes: this.bytes, total: artifact.bytes.length, peers: 2, source: 'peers' });
    if (this.then === 'fail') throw new FleetcastError('INTERNAL', 'swarm exploded');
    if (this.then === 'finish') {
      fs.writeFileSync(request.destination, artifact.bytes);
      request.onProgress?.({ bytes: artifact.bytes.length, total: artifact.bytes.length, peers: 2, source: 'peers' });
      return { sha256: artifact.digest, bytesFromPeers: artifact.bytes.length, bytesFromBucket: 0 };
    }
    return new SilentFetcher().fetch(request);
  }

  async retain(): Promise<void> {}
  async close(): Promise<void> {}
}

function fetchWith(primary: ArtifactFetcher, progress: FetchProgress[], fallbackAfterMs = 200, signal = new AbortController().signal): Promise<FetchResult> {
  const fetcher = new FallbackFetcher({ primary, fallback: new BucketFetcher({ store }), fallbackAfterMs });
  return fetcher.fetch({ goal: artifact.goal('eu', { p2pKey: 'ab'.repeat(32) }), destination, signal, onProgress: (p) => progress.push(p) });
}

describe('FallbackFetcher', () => {
  it('reads from the bucket when no peer serves a byte in time, and says so in the progress', async () => {
    const peers = new SilentFetcher();
    const progress: FetchProgress[] = [];
    const result = await fetchWith(peers, progress);
    expect(result).toEqual({ sha256: artifact.digest, bytesFromPeers: 0, bytesFromBucket: artifact.bytes.length });
    expect(peers.aborted).toBe(1);
    expect(progress.at(-1)).toMatchObject({ bytes: artifact.bytes.length, source: 'bucket', note: 'fetching from the bucket: no peer served data within 200 ms' });
    expect(sha256(fs.readFileSync(destination))).toBe(artifact.digest);
  });

  it('keeps what peers delivered when they stall, and reads only the rest from the bucket', async () => {
    const progress: FetchProgress[] = [];
    const result = await fetchWith(new PartialPeers(MiB, 'stall'), progress);
    expect(result).toEqual({ sha256: artifact.digest, bytesFromPeers: MiB, bytesFromBucket: 2 * MiB });
    expect(progress.at(-1)?.note).toBe('fetching from the bucket: peers stopped serving data for 200 ms (at 1 MiB of 3 MiB)');
  });

  it('waits longer for a first peer than for a stalled one (seeders still preparing the core), then counts stalls', async () => {
    // The primary says nothing for 400 ms (longer than the 200 ms stall limit), then finds the build and delivers.
    const late: ArtifactFetcher = {
      fetch: async (request) => {
        await new Promise((resolve) => setTimeout(resolve, 400));
        return new PartialPeers(MiB, 'finish').fetch(request);
      },
      retain: async () => undefined,
      close: async () => undefined,
    };
    const waited = new FallbackFetcher({ primary: late, fallback: new BucketFetcher({ store }), fallbackAfterMs: 200, firstPeerWithinMs: 2_000 });
    const progress: FetchProgress[] = [];
    const result = await waited.fetch({ goal: artifact.goal('eu', { p2pKey: 'ab'.repeat(32) }), destination, signal: new AbortController().signal, onProgress: (p) => progress.push(p) });
    expect(result).toEqual({ sha256: artifact.digest, bytesFromPeers: artifact.bytes.length, bytesFromBucket: 0 });
    // A primary that never says anything is given up after the first-peer wait, not the stall limit.
    const silent = new SilentFetcher();
    const started = Date.now();
    const impatient = new FallbackFetcher({ primary: silent, fallback: new BucketFetcher({ store }), fallbackAfterMs: 100, firstPeerWithinMs: 600 });
    const notes: FetchProgress[] = [];
    fs.rmSync(destination, { force: true });
    await impatient.fetch({ goal: artifact.goal('eu', { p2pKey: 'ab'.repeat(32) }), destination, signal: new AbortController().signal, onProgress: (p) => notes.push(p) });
    expect(Date.now() - started).toBeGreaterThanOrEqual(590);
    expect(notes.at(-1)?.note).toBe('fetching from the bucket: no peer served data within 600 ms');
    // Once found, a stall counts with the shorter limit.
    const stalled: FetchProgress[] = [];
    fs.rmSync(destination, { force: true });
    await new FallbackFetcher({ primary: new PartialPeers(MiB, 'stall'), fallback: new BucketFetcher({ store }), fallbackAfterMs: 200, firstPeerWithinMs: 60_000 }).fetch({
      goal: artifact.goal('eu', { p2pKey: 'ab'.repeat(32) }),
      destination,
      signal: new AbortController().signal,
      onProgress: (p) => stalled.push(p),
    });
    expect(stalled.at(-1)?.note).toBe('fetching from the bucket: peers stopped serving data for 200 ms (at 1 MiB of 3 MiB)');
  });

  it('falls back at once when the P2P fetch fails, naming the failure', async () => {
    const progress: FetchProgress[] = [];
    const result = await fetchWith(new PartialPeers(MiB, 'fail'), progress, 60_000);
    expect(result).toMatchObject({ sha256: artifact.digest, bytesFromBucket: 2 * MiB });
    expect(progress.at(-1)?.note).toBe('fetching from the bucket: the P2P fetch failed: swarm exploded');
  });

  it('does not touch the bucket when peers deliver', async () => {
    const progress: FetchProgress[] = [];
    const result = await fetchWith(new PartialPeers(MiB, 'finish'), progress, 60_000);
    expect(result).toEqual({ sha256: artifact.digest, bytesFromPeers: artifact.bytes.length, bytesFromBucket: 0 });
    expect(progress.every((p) => p.source === 'peers' && p.note === undefined)).toBe(true);
  });

  it('goes straight to the bucket for a goal without a P2P key', async () => {
    const peers = new SilentFetcher();
    const progress: FetchProgress[] = [];
    const fetcher = new FallbackFetcher({ primary: peers, fallback: new BucketFetcher({ store }), fallbackAfterMs: 60_000 });
    const result = await fetcher.fetch({ goal: artifact.goal('eu', { p2pKey: null }), destination, signal: new AbortController().signal, onProgress: (p) => progress.push(p) });
    expect(result.sha256).toBe(artifact.digest);
    expect(peers.calls).toBe(0);
    expect(progress[0]?.note).toBe('fetching from the bucket: the goal has no P2P key');
  });

  it("the caller's abort stops the primary and never reaches the bucket", async () => {
    const peers = new SilentFetcher();
    const controller = new AbortController();
    const fetching = fetchWith(peers, [], 60_000, controller.signal);
    await eventually(() => peers.calls === 1, 5_000, 'the primary to start');
    controller.abort(new Error('superseded'));
    await expect(fetching).rejects.toThrow('superseded');
    expect(peers.aborted).toBe(1);
    expect(fs.existsSync(destination)).toBe(false);
    // Aborted before anything started: nothing is called at all.
    const early = new AbortController();
    early.abort(new Error('gone'));
    await expect(fetchWith(peers, [], 60_000, early.signal)).rejects.toThrow('gone');
    expect(peers.calls).toBe(1);
  });
});
