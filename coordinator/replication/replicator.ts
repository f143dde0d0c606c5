import type { BlobStore } from '../../blobstore/index.ts';
import { silentLogger, type Logger } from '../../logging/index.ts';
import { QueueWorker, type JobHandler, type StopOptions } from '../../queue/index.ts';
import type { ReplicationQueue } from './replication-queue.ts';
import type { CopyResult, Replication } from './replication.ts';

export interface ReplicatorOptions {
  queue: ReplicationQueue;
  main: BlobStore;
  /** The regional buckets this replicator copies into; copies for other regions are left to others. */
  regions: Record<string, BlobStore>;
  workerId: string;
  /** Copies into one region at once, per replicator. @defaultValue 2 */
  concurrencyPerRegion?: number;
  /** @defaultValue 5 s */
  heartbeatIntervalMs?: number;
  /** @defaultValue 250 ms */
  pollIntervalMs?: number;
  logger?: Logger;
}

/**
 * Copies SUCCEEDED builds from the main bucket into every regional bucket, each region on its
 * own worker loops so a slow or failing region never holds the others up.
 */
export class Replicator {
  private readonly workers: QueueWorker<Replication, CopyResult>[];

  constructor(options: ReplicatorOptions) {
    const logger = (options.logger ?? silentLogger()).child({ component: 'replicator' });
    this.workers = Object.entries(options.regions).map(
      ([region, target]) =>
        new QueueWorker(options.queue.forRegion(region), copyInto(options.main, target), {
          workerId: `${options.workerId}/${region}`,
          concurrency: options.concurrencyPerRegion ?? 2,
          heartbeatIntervalMs: options.heartbeatIntervalMs ?? 5_000,
          pollIntervalMs: options.pollIntervalMs ?? 250,
          logger,
        }),
    );
  }

  start(): void {
    for (const worker of this.workers) worker.start();
  }

  async stop(options?: StopOptions): Promise<void> {
    await Promise.all(this.workers.map((worker) => worker.stop(options)));
  }
}

/** Server-side where the stores allow it; the store verifies size and sha256 at the target. */
function copyInto(main: BlobStore, target: BlobStore): JobHandler<Replication, CopyResult> {
  return async (copy) => {
    const stored = await main.copy(copy.objectName, target);
    if (stored.sha256 !== copy.digest || stored.size !== copy.size) {
      throw new Error(
        `the copy in ${target.bucket} has ${stored.size} bytes, sha256 ${stored.sha256}; the build has ${copy.size} bytes, sha256 ${copy.digest}`,
      );
    }
    return { verifiedDigest: stored.sha256, bytes: stored.size };
  };
}
