import { humanDuration } from '../config/index.ts';
import type { Database } from '../entities/index.ts';
import { silentLogger, type Logger } from '../logging/index.ts';
import { buildsTable, type JobTable } from './job-table.ts';
import { PeriodicTask } from '../lifecycle/index.ts';
import { failStale, findOverdue, findStaleHeartbeats, requeueStale } from './sql/reap.ts';

export interface ReaperOptions {
  /** The jobs it watches. @defaultValue builds */
  table?: JobTable;
  /** A RUNNING build without a heartbeat for this long has lost its worker. @defaultValue 30 s */
  heartbeatTimeoutMs?: number;
  /** A job running for longer than this is failed as timed out. @defaultValue 15 min */
  buildTimeoutMs?: number;
  /** Time between sweeps. @defaultValue 5 s */
  intervalMs?: number;
  logger?: Logger;
}

export interface ReapResult {
  requeued: number[];
  failed: number[];
  timedOut: number[];
}

/**
 * Takes jobs (builds, replications) back from workers that died or hung. Safe to run in every coordinator at once:
 * each write is fenced by the claim token it saw, so two reapers never both act on one claim.
 */
export class Reaper {
  private readonly table: JobTable;
  private readonly heartbeatTimeoutMs: number;
  private readonly buildTimeoutMs: number;
  private readonly intervalMs: number;
  private readonly logger: Logger;
  private readonly task: PeriodicTask;

  constructor(
    private readonly db: Database,
    options: ReaperOptions = {},
  ) {
    this.table = options.table ?? buildsTable;
    this.heartbeatTimeoutMs = options.heartbeatTimeoutMs ?? 30_000;
    this.buildTimeoutMs = options.buildTimeoutMs ?? 15 * 60_000;
    this.intervalMs = options.intervalMs ?? 5_000;
    this.logger = (options.logger ?? silentLogger()).child({ component: 'reaper', table: this.table.table });
    this.task = new PeriodicTask('reaper sweep', this.intervalMs, () => this.reapOnce(), this.logger);
  }

  async reapOnce(): Promise<ReapResult> {
    const result: ReapResult = { requeued: [], failed: [], timedOut: [] };

    const t = this.table;
    for (const overdue of await findOverdue(this.db, t, this.buildTimeoutMs)) {
      const reason = `timed out after ${humanDuration(this.buildTimeoutMs)} (attempt ${overdue.attempts} of ${overdue.maxAttempts})`;
      if (await failStale(this.db, t, overdue, reason)) {
        result.timedOut.push(overdue.id);
        this.logger.warn({ job: t.formatId(overdue.id), reason }, 'failed: timed out');
      }
    }

    for (const stale of await findStaleHeartbeats(this.db, t, this.heartbeatTimeoutMs)) {
      const job = t.formatId(stale.id);
      if (stale.attempts < stale.maxAttempts) {
        if (await requeueStale(this.db, t, stale)) {
          result.requeued.push(stale.id);
          this.logger.warn({ job, attempts: stale.attempts, staleSeconds: stale.ageSeconds }, 'worker lost: re-queued');
        }
      } else {
        const reason = `worker lost (heartbeat stale ${stale.ageSeconds} s) after ${stale.attempts} attempts`;
        if (await failStale(this.db, t, stale, reason)) {
          result.failed.push(stale.id);
          this.logger.error({ job, reason }, 'failed: worker lost too often');
        }
      }
    }
    return result;
  }

  start(): void {
    this.task.start();
  }

  async stop(): Promise<void> {
    await this.task.stop();
  }
}
