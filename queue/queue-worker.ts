import { FleetcastError, isFleetcastError } from '../errors/index.ts';
import { silentLogger, type Logger } from '../logging/index.ts';
import type { Build } from './build.ts';
import type { BuildUsed } from './build-config.ts';
import type { Claim, Claimed } from './claim.ts';
import { sleep } from '../lifecycle/index.ts';
import { retryWhileUnavailable } from './retry.ts';

/** The abort reason handlers see when the worker gives their job back on shutdown. */
const shuttingDown = new FleetcastError('CANCELLED', 'worker shutting down; the job goes back to the queue');

export interface BuildResult {
  /** sha256 of the stored artifact, lower-case hex. */
  digest: string;
  size: number;
  /** `Name <email>` of the commit's author and its subject line, from the checkout. */
  commitAuthor?: string | null;
  commitSubject?: string | null;
  /** What the build used (from the service, or the repository's fleetcast.yml), recorded with it. */
  used?: BuildUsed;
}

export interface JobContext {
  claim: Claim;
  /** Aborted when the claim is lost or cancelled, or the worker shuts down: stop at once. */
  signal: AbortSignal;
  logger: Logger;
}

/** Does the work of one job. Throwing fails the job with the error's message as reason. */
export type JobHandler<Job, Result> = (job: Job, context: JobContext) => Promise<Result>;

export type BuildContext = JobContext;
export type BuildHandler = JobHandler<Build, BuildResult>;

/** A queue as the worker loop sees it (BuildQueue.asWorkSource(), the replication queue). */
export interface WorkSource<Job, Result> {
  claim(workerId: string): Promise<Claimed<Job> | null>;
  /** Throws CLAIM_LOST or CANCELLED when the claim is gone. */
  heartbeat(claim: Claim): Promise<void>;
  succeed(claim: Claim, result: Result): Promise<unknown>;
  fail(claim: Claim, reason: string): Promise<unknown>;
  release(claim: Claim): Promise<unknown>;
  /** Ids a person searches the logs for. */
  describe(job: Job): Record<string, unknown>;
}

export interface QueueWorkerOptions {
  workerId: string;
  /** Jobs this worker runs at once. @defaultValue 1 */
  concurrency?: number;
  /** How often a held claim is proven alive. Keep well under the reaper's timeout. @defaultValue 5 s */
  heartbeatIntervalMs?: number;
  /** Wait between claims while the queue is empty. @defaultValue 1 s */
  pollIntervalMs?: number;
  logger?: Logger;
}

export interface StopOptions {
  /** Give running jobs back to the queue instead of letting them finish. @defaultValue false */
  release?: boolean;
  /**
   * How long outcome writes may keep waiting for an unavailable database once stop() was
   * called; then they give up (the claim is left to the reaper, which hands the job out
   * again). @defaultValue 10 s
   */
  outcomeGraceMs?: number;
}

/**
 * The loop every worker runs: claim the oldest job, heartbeat while the handler works,
 * record the outcome. A lost or cancelled claim aborts the handler and writes nothing; a
 * database outage is waited out, never turned into a failed job.
 */
export class QueueWorker<Job extends { id: number }, Result> {
  private readonly concurrency: number;
  private readonly heartbeatIntervalMs: number;
  private readonly pollIntervalMs: number;
  private readonly logger: Logger;
  private readonly stopping = new AbortController();
  /** Aborted a grace period after stop(): outcome writes stop waiting for the database. */
  private readonly givingUp = new AbortController();
  private readonly running = new Map<number, { claim: Claim; abort: AbortController }>();
  private slots: Promise<void>[] = [];

  constructor(
    private readonly queue: WorkSource<Job, Result>,
    private readonly handler: JobHandler<Job, Result>,
    private readonly options: QueueWorkerOptions,
  ) {
    this.concurrency = options.concurrency ?? 1;
    this.heartbeatIntervalMs = options.heartbeatIntervalMs ?? 5_000;
    this.pollIntervalMs = options.pollIntervalMs ?? 1_000;
    this.logger = (options.logger ?? silentLogger()).child({ worker: options.workerId });
  }

  start(): void {
    if (this.slots.length > 0) throw new Error('worker already started');
    for (let slot = 0; slot < this.concurrency; slot++) this.slots.push(this.runSlot());
  }

  /** Stops claiming and waits for the running jobs to finish (or to be released). */
  async stop(options: StopOptions = {}): Promise<void> {
    this.stopping.abort();
    if (options.release) {
      for (const { abort } of this.running.values()) abort.abort(shuttingDown);
    }
    const giveUp = setTimeout(() => this.givingUp.abort(), options.outcomeGraceMs ?? 10_000);
    try {
      await Promise.all(this.slots);
    } finally {
      clearTimeout(giveUp);
    }
  }

  /** Jobs held right now, for status displays and tests. */
  get held(): Claim[] {
    return [...this.running.values()].map(({ claim }) => claim);
  }

  private async runSlot(): Promise<void> {
    const signal = this.stopping.signal;
    while (!signal.aborted) {
      let claimed: Claimed<Job> | null;
      try {
        claimed = await retryWhileUnavailable(() => this.queue.claim(this.options.workerId), {
          signal,
          logger: this.logger,
          what: 'claim',
        });
      } catch (err) {
        if (!signal.aborted) this.logger.error({ err }, 'claim failed');
        await sleep(this.pollIntervalMs, signal);
        continue;
      }
      if (!claimed) {
        await sleep(this.pollIntervalMs, signal);
        continue;
      }
      await this.runJob(claimed);
    }
  }

  private async runJob({ job, claim }: Claimed<Job>): Promise<void> {
    const logger = this.logger.child(this.queue.describe(job));
    const abort = new AbortController();
    this.running.set(job.id, { claim, abort });
    const heartbeat = this.heartbeatUntil(claim, abort, logger);
    logger.info('claimed');

    let outcome: { result: Result } | { error: unknown };
    try {
      outcome = { result: await this.handler(job, { claim, signal: abort.signal, logger }) };
    } catch (error) {
      outcome = { error };
    }
    const lostReason = abort.signal.reason as unknown;
    abort.abort();
    await heartbeat;
    this.running.delete(job.id);

    try {
      if (lostReason !== undefined && lostReason !== shuttingDown) {
        // Lost to the reaper or cancelled: the job is no longer ours to write.
        logger.warn({ reason: (lostReason as Error).message }, 'abandoned');
      } else if ('result' in outcome) {
        await this.writeOutcome(() => this.queue.succeed(claim, outcome.result), logger);
        logger.info({ result: outcome.result }, 'succeeded');
      } else if (lostReason === shuttingDown) {
        await this.writeOutcome(() => this.queue.release(claim), logger);
        logger.info('released: worker shutting down');
      } else {
        const reason = outcome.error instanceof Error ? outcome.error.message : String(outcome.error);
        await this.writeOutcome(() => this.queue.fail(claim, reason), logger);
        logger.warn({ reason }, 'failed');
      }
    } catch (err) {
      if (isFleetcastError(err, 'CLAIM_LOST') || isFleetcastError(err, 'CANCELLED')) {
        logger.warn({ reason: err.message }, 'outcome not recorded: claim lost');
      } else {
        logger.error({ err }, 'could not record the outcome; the reaper will take the build back');
      }
    }
  }

  private async writeOutcome(write: () => Promise<unknown>, logger: Logger): Promise<void> {
    await retryWhileUnavailable(write, { logger, what: 'record outcome', signal: this.givingUp.signal });
  }

  /** Heartbeats every interval until `abort` fires; aborts it itself when the claim is gone. */
  private async heartbeatUntil(claim: Claim, abort: AbortController, logger: Logger): Promise<void> {
    while (!abort.signal.aborted) {
      await sleep(this.heartbeatIntervalMs, abort.signal);
      if (abort.signal.aborted) return;
      try {
        await this.queue.heartbeat(claim);
      } catch (err) {
        if (isFleetcastError(err, 'CLAIM_LOST') || isFleetcastError(err, 'CANCELLED')) {
          abort.abort(err);
          return;
        }
        // Keep working: if the outage outlasts the reaper's timeout, the next heartbeat says so.
        logger.warn({ err: err instanceof Error ? err.message : err }, 'heartbeat failed; retrying');
      }
    }
  }
}
