import type { FleetBlobStores } from '../../blobstore/index.ts';
import type { Database } from '../../entities/index.ts';
import { silentLogger, type Logger } from '../../logging/index.ts';
import { Reaper } from '../../queue/index.ts';
import { ReplicationAuditor } from './replication-auditor.ts';
import { ReplicationPlanner } from './replication-planner.ts';
import { ReplicationQueue } from './replication-queue.ts';
import { ReplicationStatusService } from './replication-status.ts';
import { replicationsTable } from './replication.ts';
import { Replicator } from './replicator.ts';
import { RetentionPolicy } from './retention-policy.ts';
import { resetFailed } from './sql/select.ts';

export interface ReplicationServiceOptions {
  regions: readonly string[];
  stores: FleetBlobStores;
  workerId: string;
  /** Copies per region run by this process; 0 leaves copying to `fleetcast replicator`. @defaultValue 2 */
  concurrencyPerRegion?: number;
  /** @defaultValue 5 */
  maxAttempts?: number;
  /** @defaultValue 24 h */
  auditEveryMs?: number;
  /** @defaultValue 20 */
  keepPerService?: number;
  heartbeatIntervalMs?: number;
  heartbeatTimeoutMs?: number;
  /** Overrides of the loops' pacing, for tests. */
  pacing?: { plannerMs?: number; auditMs?: number; retentionMs?: number; reaperMs?: number; retryDelayMs?: number };
  logger?: Logger;
}

/**
 * Everything the coordinator runs for replication, started and stopped together: the planner
 * (a copy per build and region), the replicator (unless scaled out), the reaper of stuck
 * copies, the auditor and retention. `status` answers "which regions hold this build".
 */
export class ReplicationService {
  readonly queue: ReplicationQueue;
  readonly status: ReplicationStatusService;
  private readonly planner: ReplicationPlanner;
  private readonly replicator: Replicator | undefined;
  private readonly reaper: Reaper;
  private readonly auditor: ReplicationAuditor;
  private readonly retention: RetentionPolicy;

  constructor(
    private readonly db: Database,
    options: ReplicationServiceOptions,
  ) {
    const logger = options.logger ?? silentLogger();
    const pacing = options.pacing ?? {};
    this.queue = new ReplicationQueue(db, { ...(pacing.retryDelayMs !== undefined ? { retryDelayMs: pacing.retryDelayMs } : {}) });
    this.status = new ReplicationStatusService(db, options.regions);
    this.planner = new ReplicationPlanner(db, {
      regions: options.regions,
      maxAttempts: options.maxAttempts ?? 5,
      ...(pacing.plannerMs !== undefined ? { intervalMs: pacing.plannerMs } : {}),
      logger,
    });
    const concurrency = options.concurrencyPerRegion ?? 2;
    this.replicator =
      concurrency > 0
        ? new Replicator({
            queue: this.queue,
            main: options.stores.main,
            regions: options.stores.regions,
            workerId: options.workerId,
            concurrencyPerRegion: concurrency,
            ...(options.heartbeatIntervalMs !== undefined ? { heartbeatIntervalMs: options.heartbeatIntervalMs } : {}),
            logger,
          })
        : undefined;
    this.reaper = new Reaper(db, {
      table: replicationsTable,
      ...(options.heartbeatTimeoutMs !== undefined ? { heartbeatTimeoutMs: options.heartbeatTimeoutMs } : {}),
      // A 10 GB copy between regions is slow, but never this slow.
      buildTimeoutMs: 6 * 3_600_000,
      ...(pacing.reaperMs !== undefined ? { intervalMs: pacing.reaperMs } : {}),
      logger,
    });
    this.auditor = new ReplicationAuditor(db, {
      regions: options.stores.regions,
      ...(options.auditEveryMs !== undefined ? { everyMs: options.auditEveryMs } : {}),
      ...(pacing.auditMs !== undefined ? { intervalMs: pacing.auditMs } : {}),
      logger,
    });
    this.retention = new RetentionPolicy(db, {
      regions: options.stores.regions,
      ...(options.keepPerService !== undefined ? { keepPerService: options.keepPerService } : {}),
      ...(pacing.retentionMs !== undefined ? { intervalMs: pacing.retentionMs } : {}),
      logger,
    });
  }

  start(): void {
    this.planner.start();
    this.replicator?.start();
    this.reaper.start();
    this.auditor.start();
    this.retention.start();
  }

  async stop(): Promise<void> {
    await this.retention.stop();
    await this.auditor.stop();
    await this.reaper.stop();
    await this.replicator?.stop();
    await this.planner.stop();
  }

  /** `fleetcast replicate BUILD [--region R]`: FAILED copies get fresh attempts. Returns how many. */
  async retry(buildId: number, region?: string): Promise<number> {
    return resetFailed(this.db, buildId, region);
  }
}
