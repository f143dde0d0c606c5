// Fixtures of the edge-agent tests: artifacts in a bucket with their goals, and fetchers
// that count, wait or never deliver.
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import type { BlobStore } from '../../blobstore/index.ts';
import { artifactObjectName } from '../../blobstore/index.ts';
import type { GoalContent } from '../../goalstate/index.ts';
import { sampleGoal } from './sample-goal.ts';
import type { ArtifactFetcher, FetchRequest, FetchResult, RetainedBuild } from '../../edge-agent/fetch/artifact-fetcher.ts';

export interface TestArtifact {
  bytes: Buffer;
  digest: string;
  /** A goal for it (build `b<n>`), to be adjusted per region and test. */
  goal: (region: string, overrides?: Partial<GoalContent>) => GoalContent;
}

/**
 * `size` bytes for build `b<n>` of `service`, starting with `header` (a shell script, say: sh
 * stops reading at its `exec`, so random bytes may follow), stored in every store given.
 */
export async function storeArtifact(stores: BlobStore[], service: string, n: number, size: number, header = ''): Promise<TestArtifact> {
  const head = Buffer.from(header);
  const bytes = Buffer.concat([head, randomBytes(Math.max(0, size - head.length))]);
  const digest = createHash('sha256').update(bytes).digest('hex');
  const name = artifactObjectName(service, n, digest);
  for (const store of stores) await store.put(name, Readable.from([bytes]), { sha256: digest });
  return {
    bytes,
    digest,
    goal: (region, overrides = {}) => sampleGoal(service, region, n, { digest, size: bytes.length, artifact: name, fileName: service, ...overrides }),
  };
}

export function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Wraps a fetcher and records what it was asked (the builds fetched, retain calls). */
export class CountingFetcher implements ArtifactFetcher {
  readonly fetches: string[] = [];
  readonly retained: string[][] = [];

  constructor(private readonly inner: ArtifactFetcher) {}

  fetch(request: FetchRequest): Promise<FetchResult> {
    this.fetches.push(`${request.goal.service}/${request.goal.build}`);
    return this.inner.fetch(request);
  }

  async retain(builds: RetainedBuild[]): Promise<void> {
    this.retained.push(builds.map((b) => `${b.goal.service}/${b.goal.build}`).sort());
    await this.inner.retain(builds);
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

/** A primary (P2P) fetcher with no peers: it never delivers a byte, and stops when aborted. */
export class SilentFetcher implements ArtifactFetcher {
  calls = 0;
  aborted = 0;

  fetch(request: FetchRequest): Promise<FetchResult> {
    this.calls++;
    return new Promise((_, reject) => {
      const stop = () => {
        this.aborted++;
        reject(request.signal.reason);
      };
      if (request.signal.aborted) stop();
      else request.signal.addEventListener('abort', stop, { once: true });
    });
  }

  async retain(): Promise<void> {}

  async close(): Promise<void> {}
}
