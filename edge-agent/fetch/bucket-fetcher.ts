import { createHash, type Hash } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { digestMismatch, type BlobStore } from '../../blobstore/index.ts';
import { formatBytes } from '../../config/index.ts';
import { FleetcastError, isFleetcastError } from '../../errors/index.ts';
import type { GoalContent } from '../../goalstate/index.ts';
import { silentLogger, type Logger } from '../../logging/index.ts';
import { RateLimiter } from '../limits/rate-limiter.ts';
import type { ArtifactFetcher, FetchProgress, FetchRequest, FetchResult, RetainedBuild } from './artifact-fetcher.ts';
import { destinationError } from './destination-error.ts';

export interface BucketFetcherOptions {
  /** The region's bucket (`<prefix>-<region>`), where replication put every deployable build. */
  store: BlobStore;
  /**
   * Caps the bytes per second read from the bucket, summed over every fetch of this fetcher
   * (FLEETCAST_AGENT_BUCKET_RATE): a region whose peers all fall back at once must not melt
   * the bucket. @defaultValue unlimited
   */
  limiter?: RateLimiter;
  /** Bytes per read and write. @defaultValue 1 MiB */
  chunkSize?: number;
  /** fsync the file before fetch() resolves, so a verified mark never covers bytes still in the page cache. @defaultValue true */
  fsync?: boolean;
  /** @defaultValue a silent logger */
  logger?: Logger;
}

/**
 * Reads a build straight from the regional bucket: the fallback when no peer serves data, and
 * the only fetcher until the P2P one exists. It resumes what a previous fetch left in the
 * destination with a range read (re-hashing that prefix, since a hash's state cannot be
 * stored), hashes as it writes, and holds one chunk in memory whatever the size.
 */
export class BucketFetcher implements ArtifactFetcher {
  private readonly limiter: RateLimiter;
  private readonly chunkSize: number;
  private readonly logger: Logger;

  constructor(private readonly options: BucketFetcherOptions) {
    this.limiter = options.limiter ?? new RateLimiter(null);
    this.chunkSize = options.chunkSize ?? 1 << 20;
    this.logger = options.logger ?? silentLogger();
  }

  async fetch(request: FetchRequest): Promise<FetchResult> {
    const { goal, destination, signal } = request;
    signal.throwIfAborted();
    const store = this.options.store;
    const ids = { service: goal.service, build: goal.build, region: goal.region, bucket: store.bucket };
    await this.checkObject(goal);

    const hash = createHash('sha256');
    const have = await this.resumablePrefix(destination, goal.size);
    let bytes = have;
    const progress = (): FetchProgress => ({ bytes, total: goal.size, peers: 0, source: 'bucket' });
    if (have > 0) {
      this.logger.info({ ...ids, resumeFrom: have, size: goal.size }, `resuming ${goal.build} of ${goal.service} from the bucket at ${formatBytes(have)}`);
      await this.hashPrefix(destination, have, hash, signal);
    }
    request.onProgress?.(progress());

    if (have < goal.size) {
      try {
        // Unverified on purpose: ranges cannot be checked by the store, and the hash taken
        // here covers the whole file, resumed prefix included.
        const source = await store.get(goal.artifact, have > 0 ? { range: { start: have }, verify: false } : { verify: false });
        const limiter = this.limiter;
        const chunkSize = this.chunkSize;
        await pipeline(
          source,
          async function* (chunks: AsyncIterable<Buffer>) {
            for await (const chunk of chunks) {
              // Split big chunks so the rate cap stays smooth at small rates.
              for (let offset = 0; offset < chunk.length; offset += chunkSize) {
                const piece = chunk.subarray(offset, offset + chunkSize);
                await limiter.take(piece.length, signal);
                hash.update(piece);
                bytes += piece.length;
                yield piece;
              }
              request.onProgress?.(progress());
            }
          },
          fs.createWriteStream(destination, { flags: have > 0 ? 'r+' : 'w', start: have, highWaterMark: this.chunkSize, flush: this.options.fsync ?? true }),
          { signal },
        );
      } catch (err) {
        if (signal.aborted) throw signal.reason;
        if (isFleetcastError(err, 'NOT_FOUND')) throw unknownBuild(goal, store.bucket, err);
        if (isFleetcastError(err)) throw err;
        throw destinationError(err, destination, `downloading ${goal.build} of ${goal.service} from bucket ${store.bucket}`);
      }
    }
    if (bytes !== goal.size) {
      throw digestMismatch(`${goal.build} of ${goal.service} read from bucket ${store.bucket}`, { size: goal.size }, { sha256: '(not computed)', size: bytes });
    }
    this.logger.debug({ ...ids, bytesFromBucket: bytes - have }, 'read from the bucket');
    return { sha256: hash.digest('hex'), bytesFromPeers: 0, bytesFromBucket: bytes - have };
  }

  async retain(_builds: RetainedBuild[]): Promise<void> {
    // The bucket keeps everything; there is nothing of ours to drop.
  }

  async close(): Promise<void> {
    // The store belongs to whoever opened it.
  }

  /**
   * A missing object, or one that is not the goal's build, fails before a byte moves: the
   * store knows size and sha256 of what it holds.
   */
  private async checkObject(goal: GoalContent): Promise<void> {
    const store = this.options.store;
    let info;
    try {
      info = await store.stat(goal.artifact);
    } catch (err) {
      if (isFleetcastError(err, 'NOT_FOUND')) throw unknownBuild(goal, store.bucket, err);
      throw err;
    }
    if (info.size !== goal.size || info.sha256 !== goal.digest) {
      throw digestMismatch(
        `${goal.build} of ${goal.service} in bucket ${store.bucket} (${goal.artifact})`,
        { sha256: goal.digest, size: goal.size },
        { sha256: info.sha256, size: info.size },
        'the regional copy is not the build the goal names; nothing was installed. Re-copy it (fleetcast replicate BUILD) or deploy another build',
      );
    }
  }

  /** Bytes of the destination that can be kept; a file longer than the artifact is no prefix of it. */
  private async resumablePrefix(destination: string, size: number): Promise<number> {
    const stat = await fsp.stat(destination).catch(() => undefined);
    if (!stat) return 0;
    if (stat.size <= size) return stat.size;
    this.logger.warn({ destination, have: stat.size, size }, 'partial file is longer than the artifact; starting over');
    await fsp.truncate(destination, 0);
    return 0;
  }

  private async hashPrefix(destination: string, length: number, hash: Hash, signal: AbortSignal): Promise<void> {
    try {
      for await (const chunk of fs.createReadStream(destination, { start: 0, end: length - 1, highWaterMark: this.chunkSize, signal })) {
        hash.update(chunk as Buffer);
      }
    } catch (err) {
      if (signal.aborted) throw signal.reason;
      throw destinationError(err, destination, 'reading the partial download back');
    }
  }
}

function unknownBuild(goal: GoalContent, bucket: string, cause: unknown): FleetcastError {
  return new FleetcastError(
    'NOT_FOUND',
    `build ${goal.build} of ${goal.service} is not in the regional bucket ${bucket} (no object ${goal.artifact}): it was not copied to region ${goal.region}, or retention removed it. The running build stays; the agent tries again — deploy a build that is deployable (fleetcast show ${goal.build})`,
    { build: goal.build, service: goal.service, bucket, object: goal.artifact },
    { cause },
  );
}
