import { randomUUID } from 'node:crypto';
import type { Database } from '../../entities/index.ts';
import { FleetcastError } from '../../errors/index.ts';
import { backoffDelay } from '../../lifecycle/index.ts';
import type { Claim, Claimed, WorkSource } from '../../queue/index.ts';
import { claimOldest } from '../../queue/sql/claim.ts';
import { markFailed, markSucceeded, releaseClaim, retryLater } from '../../queue/sql/complete.ts';
import { touchHeartbeat } from '../../queue/sql/heartbeat.ts';
import { replicationsTable, toReplication, type CopyResult, type Replication } from './replication.ts';

export interface ReplicationQueueOptions {
  /** First wait before retrying a failed copy; doubles with each attempt. @defaultValue 1 s */
  retryDelayMs?: number;
  /** Longest wait between tries. @defaultValue 5 min */
  maxRetryDelayMs?: number;
}

/**
 * The copies waiting for replicators, on the same machinery as the build queue (SKIP LOCKED
 * claims, heartbeats, claim-token fencing, the reaper). Unlike a build, a failed copy is
 * retried with backoff until its attempts run out; only then is it FAILED.
 */
export class ReplicationQueue {
  private readonly retryDelayMs: number;
  private readonly maxRetryDelayMs: number;

  constructor(
    private readonly db: Database,
    options: ReplicationQueueOptions = {},
  ) {
    this.retryDelayMs = options.retryDelayMs ?? 1_000;
    this.maxRetryDelayMs = options.maxRetryDelayMs ?? 5 * 60_000;
  }

  /** The oldest due copy into `region`, now COPYING and held by `workerId`. */
  async claim(workerId: string, region: string): Promise<Claimed<Replication> | null> {
    const token = randomUUID();
    const row = await claimOldest(this.db, replicationsTable, workerId, token, region);
    if (!row) return null;
    const job = toReplication(row);
    return { job, claim: { id: job.id, workerId, token } };
  }

  async heartbeat(claim: Claim): Promise<void> {
    if (!(await touchHeartbeat(this.db, replicationsTable, claim))) throw this.lost(claim, 'heartbeat');
  }

  async succeed(claim: Claim, result: CopyResult): Promise<void> {
    const written = await markSucceeded(this.db, replicationsTable, claim, {
      verified_digest: result.verifiedDigest,
      bytes_copied: result.bytes,
    });
    if (!written) throw this.lost(claim, 'succeed');
  }

  /** Retries later while attempts remain; FAILED with the reason after the last one. */
  async fail(claim: Claim, reason: string): Promise<void> {
    const [row] = await this.db.query<{ attempts: number; max_attempts: number }>(
      `SELECT attempts, max_attempts FROM replications WHERE id = ? AND claim_token = ?`,
      [claim.id, claim.token],
    );
    if (!row) throw this.lost(claim, 'fail');
    const attempts = Number(row.attempts);
    if (attempts >= Number(row.max_attempts)) {
      const final = `${reason} (gave up after ${attempts} attempts; retry with: fleetcast replicate)`;
      if (!(await markFailed(this.db, replicationsTable, claim, final))) throw this.lost(claim, 'fail');
      return;
    }
    const delay = backoffDelay(attempts, { initialMs: this.retryDelayMs, maxMs: this.maxRetryDelayMs });
    if (!(await retryLater(this.db, replicationsTable, claim, reason, delay))) throw this.lost(claim, 'fail');
  }

  async release(claim: Claim): Promise<void> {
    if (!(await releaseClaim(this.db, replicationsTable, claim))) throw this.lost(claim, 'release');
  }

  /** The copies into one region, as a QueueWorker consumes them. */
  forRegion(region: string): WorkSource<Replication, CopyResult> {
    return {
      claim: (workerId) => this.claim(workerId, region),
      heartbeat: (claim) => this.heartbeat(claim),
      succeed: (claim, result) => this.succeed(claim, result),
      fail: (claim, reason) => this.fail(claim, reason),
      release: (claim) => this.release(claim),
      describe: (job) => ({ replication: replicationsTable.formatId(job.id), build: `b${job.buildId}`, region: job.region, attempt: job.attempts }),
    };
  }

  private lost(claim: Claim, operation: string): FleetcastError {
    return new FleetcastError(
      'CLAIM_LOST',
      `worker ${claim.workerId} no longer holds replication r${claim.id} (${operation} refused): the reaper or an audit took it back; stop working on it`,
      { replication: `r${claim.id}`, operation },
    );
  }
}
