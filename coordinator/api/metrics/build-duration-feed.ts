import type { SqlRunner } from '../../../entities/index.ts';
import { selectFinishedFrom, selectUnfinishedFloor, type FinishedBuild } from './metrics-sql.ts';

/**
 * Hands each build that finishes while this coordinator runs to the duration histogram
 * exactly once, at scrape time. Rather than trust finish timestamps (concurrent commits can
 * land out of order), it remembers which finished builds it has seen, from the lowest id that
 * could still finish: a build that finishes later was unfinished — so at or above that floor —
 * when the floor was taken. Memory is bounded by the builds since the oldest unfinished one.
 */
export class BuildDurationFeed {
  private floor = 1;
  private readonly seen = new Set<number>();

  constructor(private readonly sql: SqlRunner) {}

  /** Marks what has already finished as seen: history before the start is not this process's to report. */
  async start(): Promise<void> {
    this.floor = await selectUnfinishedFloor(this.sql);
    for (const build of await selectFinishedFrom(this.sql, this.floor)) this.seen.add(build.id);
  }

  /** Builds finished since the previous call. */
  async next(): Promise<FinishedBuild[]> {
    // The floor is taken first: a build finishing between the two queries is then still in range next time.
    const nextFloor = await selectUnfinishedFloor(this.sql);
    const fresh = (await selectFinishedFrom(this.sql, this.floor)).filter((build) => !this.seen.has(build.id));
    for (const build of fresh) this.seen.add(build.id);
    this.floor = nextFloor;
    for (const id of this.seen) if (id < this.floor) this.seen.delete(id);
    return fresh;
  }
}
