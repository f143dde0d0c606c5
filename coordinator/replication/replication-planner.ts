import { artifactObjectName } from '../../blobstore/index.ts';
import type { Database } from '../../entities/index.ts';
import { silentLogger, type Logger } from '../../logging/index.ts';
import { PeriodicTask } from '../../lifecycle/index.ts';
import { findUnplanned, insertReplication } from './sql/plan.ts';

export interface ReplicationPlannerOptions {
  regions: readonly string[];
  /** Attempts of each copy. @defaultValue 5 */
  maxAttempts?: number;
  /** Time between looks at freshly finished builds. @defaultValue 250 ms */
  intervalMs?: number;
  /** Builds finished this long ago still get copies into regions that lack them (new regions). @defaultValue 7 days */
  lookbackMs?: number;
  /** Time between sweeps over the whole lookback. @defaultValue 30 s */
  sweepEveryMs?: number;
  logger?: Logger;
}

/** How far back the frequent look reaches: generous against clock skew and slow loops. */
const recentWindowMs = 120_000;
const batch = 500;

/**
 * Gives every SUCCEEDED build one PENDING copy per configured region. Builders finish in other
 * processes, so the planner looks at freshly finished builds several times a second (an
 * indexed range on finished_at) and, less often, over the whole lookback, which is how a
 * region added to FLEETCAST_REGIONS gets the recent builds. Safe in several coordinators:
 * (build, region) is unique and inserts that lose the race do nothing.
 */
export class ReplicationPlanner {
  private readonly maxAttempts: number;
  private readonly intervalMs: number;
  private readonly lookbackMs: number;
  private readonly sweepEveryMs: number;
  private readonly logger: Logger;
  private readonly task: PeriodicTask;
  private lastSweep = 0;

  constructor(
    private readonly db: Database,
    private readonly options: ReplicationPlannerOptions,
  ) {
    this.maxAttempts = options.maxAttempts ?? 5;
    this.intervalMs = options.intervalMs ?? 250;
    this.lookbackMs = options.lookbackMs ?? 7 * 24 * 3_600_000;
    this.sweepEveryMs = options.sweepEveryMs ?? 30_000;
    this.logger = (options.logger ?? silentLogger()).child({ component: 'replication-planner' });
    this.task = new PeriodicTask('planning copies', this.intervalMs, () => this.planRound(), this.logger);
  }

  /** Plans copies of builds finished within `windowMs`; returns how many were added. */
  async planOnce(windowMs: number = this.lookbackMs): Promise<number> {
    let added = 0;
    for (const region of this.options.regions) {
      for (;;) {
        const builds = await findUnplanned(this.db, region, windowMs, batch);
        for (const build of builds) {
          const inserted = await insertReplication(this.db, {
            buildId: build.id,
            region,
            objectName: artifactObjectName(build.service, build.id, build.digest),
            digest: build.digest,
            size: build.size,
            maxAttempts: this.maxAttempts,
          });
          if (inserted) {
            added++;
            this.logger.info({ build: `b${build.id}`, region }, 'copy planned');
          }
        }
        if (builds.length < batch) break;
      }
    }
    return added;
  }

  start(): void {
    this.task.start();
  }

  async stop(): Promise<void> {
    await this.task.stop();
  }

  /** Freshly finished builds every round; the whole lookback now and then. */
  private async planRound(): Promise<void> {
    const sweep = Date.now() - this.lastSweep >= this.sweepEveryMs;
    await this.planOnce(sweep ? this.lookbackMs : recentWindowMs);
    if (sweep) this.lastSweep = Date.now();
  }
}
