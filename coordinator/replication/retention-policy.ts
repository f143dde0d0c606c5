import type { BlobStore } from '../../blobstore/index.ts';
import type { Database } from '../../entities/index.ts';
import { silentLogger, type Logger } from '../../logging/index.ts';
import { PeriodicTask } from '../../lifecycle/index.ts';
import { toReplication } from './replication.ts';
import { findExpired, markRemoved } from './sql/retention.ts';

export interface RetentionPolicyOptions {
  regions: Record<string, BlobStore>;
  /** Newest SUCCEEDED builds per service whose regional copies are kept. @defaultValue 20 */
  keepPerService?: number;
  /**
   * Builds that must stay whatever their age (e.g. deployed in the last D days). The deploy
   * history arrives with the goal-state work; until then nothing is protected beyond `keep`.
   */
  isProtected?: (buildIds: number[]) => Promise<Set<number>>;
  /** @defaultValue 10 min */
  intervalMs?: number;
  logger?: Logger;
}

/**
 * Deletes regional copies of old builds to bound bucket size. History rows are never deleted:
 * the replication row records removed_at, and such a build reads as not deployable.
 */
export class RetentionPolicy {
  private readonly keep: number;
  private readonly intervalMs: number;
  private readonly logger: Logger;
  private readonly task: PeriodicTask;

  constructor(
    private readonly db: Database,
    private readonly options: RetentionPolicyOptions,
  ) {
    this.keep = options.keepPerService ?? 20;
    this.intervalMs = options.intervalMs ?? 10 * 60_000;
    this.logger = (options.logger ?? silentLogger()).child({ component: 'retention' });
    this.task = new PeriodicTask('retention round', this.intervalMs, () => this.applyOnce(), this.logger);
  }

  /** Removes what the policy allows; returns the number of regional objects deleted. */
  async applyOnce(): Promise<number> {
    const expired = (await findExpired(this.db, this.keep, 200)).map(toReplication);
    const kept = (await this.options.isProtected?.([...new Set(expired.map((r) => r.buildId))])) ?? new Set<number>();
    let removed = 0;
    for (const copy of expired) {
      const store = this.options.regions[copy.region];
      if (!store || kept.has(copy.buildId)) continue;
      await store.delete(copy.objectName);
      await markRemoved(this.db, copy.id);
      removed++;
      this.logger.info({ build: `b${copy.buildId}`, region: copy.region }, 'regional copy removed by retention');
    }
    return removed;
  }

  start(): void {
    this.task.start();
  }

  async stop(): Promise<void> {
    await this.task.stop();
  }
}
