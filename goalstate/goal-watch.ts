import type { KvWatchEntry, RoKV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/nats-core';
import { FleetcastError, isFleetcastError } from '../errors/index.ts';
import type { Logger } from '../logging/index.ts';
import { decodeGoal, decodePrefetchHint, type Goal } from './goal-document.ts';
import { parseGoalBucketKey } from './names.ts';
import { ResilientWatch } from './resilient-watch.ts';

/** The current goal of one service in the watched region. */
export interface GoalUpdate {
  service: string;
  region: string;
  /** null: the goal was deleted (no goal for this service in this region). */
  goal: Goal | null;
  revision: number;
  storedAt: Date;
}

export type GoalListener = (update: GoalUpdate) => void | Promise<void>;

/**
 * The build a prefetch hint names, if the hint counts: only one newer than its service's goal
 * (at `goalRevision`) does, so the wave itself, a rollback or a later deploy ends it.
 */
export function liveHint(hint: GoalUpdate | undefined, goalRevision: number | undefined): Goal | undefined {
  return hint?.goal && hint.revision > (goalRevision ?? 0) ? hint.goal : undefined;
}

export interface GoalWatchOptions {
  /**
   * A stored goal that does not parse (GOAL_INVALID). It is not delivered: the service keeps its
   * previous goal. @defaultValue logged as a warning
   */
  onError?: (error: FleetcastError) => void;
  /** First pause after the watch failed; it doubles up to maxRetryMs. @defaultValue 250 */
  minRetryMs?: number;
  /** @defaultValue 5_000 */
  maxRetryMs?: number;
  /**
   * Prefetch hints of the watched services (GoalWriter.putPrefetch), delivered like goals: the
   * current one per service, never an older after a newer, goals of a round before hints.
   * @defaultValue hints are not watched
   */
  onPrefetch?: GoalListener;
}

/**
 * Delivers the CURRENT goal of each watched service, level-triggered:
 * - first the goal of every watched service that has one, then each change;
 * - never an older goal after a newer one (a mirror catching up replays history; a restarted
 *   watch replays the last values), so only revisions above the last delivered one pass;
 * - bursts are coalesced: while more entries are pending, or while the listener is still
 *   busy with the previous goal of the service, only the latest one is kept and delivered;
 * - one delivery at a time, in order; the listener may be async and is awaited.
 * A listener should compare the goal with what is installed and act on the difference: it may
 * see the same goal again, and it may not see every intermediate goal.
 */
export class GoalWatch {
  /** Resolves once the goals that existed when the watch started were delivered. */
  readonly ready: Promise<void>;
  private readonly known = new Map<string, GoalUpdate>();
  private readonly dirty = new Set<string>();
  private readonly knownHints = new Map<string, GoalUpdate>();
  private readonly dirtyHints = new Set<string>();
  private draining = false;
  private fallback: NodeJS.Timeout | undefined;
  private idle: Promise<void> = Promise.resolve();
  private markReady!: () => void;
  private isReady = false;
  private stopped = false;
  private readonly watch: ResilientWatch;
  private readonly filter: Set<string> | undefined;

  constructor(
    nc: NatsConnection,
    kv: RoKV,
    readonly region: string,
    services: string[] | undefined,
    private readonly onGoal: GoalListener,
    private readonly options: GoalWatchOptions & { server: string; logger: Logger; onStopped?: () => void },
  ) {
    this.ready = new Promise((resolve) => (this.markReady = resolve));
    this.filter = services ? new Set(services) : undefined;
    this.watch = new ResilientWatch({
      nc,
      kv,
      // One filter subject (NATS 2.9 has no multi-filter consumers): the service's key, or the region's keys.
      key: services?.length === 1 && !options.onPrefetch ? `${services[0]}.${region}` : `*.${region}`,
      what: `goal watch of region ${region}`,
      server: options.server,
      logger: options.logger,
      minRetryMs: options.minRetryMs,
      maxRetryMs: options.maxRetryMs,
      onEntry: (entry) => this.onEntry(entry),
      onCaughtUp: () => void this.deliver().then(() => this.becomeReady()),
    });
    this.watch.start();
  }

  /** The last goal delivered (or about to be) for a service. */
  current(service: string): GoalUpdate | undefined {
    return this.known.get(service);
  }

  /** Every watched service's current goal. */
  snapshot(): GoalUpdate[] {
    return [...this.known.values()];
  }

  /** Stops watching; waits for a delivery in progress to end. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.fallback);
    await this.watch.stop();
    await this.idle;
    this.options.onStopped?.();
  }

  private onEntry(entry: KvWatchEntry): void {
    const key = parseGoalBucketKey(entry.key);
    if (!key || key.region !== this.region) return;
    const { service, kind } = key;
    if ((this.filter && !this.filter.has(service)) || (kind === 'prefetch' && !this.options.onPrefetch)) return;
    const [known, dirty] = kind === 'goal' ? [this.known, this.dirty] : [this.knownHints, this.dirtyHints];
    try {
      const decode = kind === 'goal' ? decodeGoal : decodePrefetchHint;
      const goal = entry.operation === 'PUT' ? decode(entry.value, entry.key, entry.revision) : null;
      const update: GoalUpdate = { service, region: this.region, goal, revision: entry.revision, storedAt: entry.created };
      if (isNewer(update, known.get(service))) {
        known.set(service, update);
        dirty.add(service);
      }
    } catch (err) {
      if (!isFleetcastError(err, 'GOAL_INVALID')) throw err;
      if (this.options.onError) this.options.onError(err);
      else this.options.logger.warn({ err, service, region: this.region }, err.message);
    }
    // delta is what the consumer still has to send: deliver once caught up, not mid-replay —
    // or after a short while if writes never stop coming.
    if (entry.delta === 0) void this.deliver();
    else this.fallback ??= setTimeout(() => {
      this.fallback = undefined;
      void this.deliver();
    }, 100);
  }

  /** Starts delivering what is dirty unless a delivery loop already runs (it picks the new entries up). */
  private deliver(): Promise<void> {
    if (!this.draining) {
      this.draining = true;
      this.idle = this.drain();
    }
    return this.idle;
  }

  private async drain(): Promise<void> {
    try {
      while ((this.dirty.size > 0 || this.dirtyHints.size > 0) && !this.stopped) {
        const isGoal = this.dirty.size > 0;
        const [known, dirty, listener] = isGoal ? [this.known, this.dirty, this.onGoal] : [this.knownHints, this.dirtyHints, this.options.onPrefetch!];
        const service = dirty.values().next().value!;
        dirty.delete(service);
        const update = known.get(service)!;
        try {
          // A synchronous listener runs right here, without a turn of the event loop per goal.
          const result = listener(update);
          if (result) await result;
        } catch (err) {
          this.options.logger.warn({ err, service, region: this.region, revision: update.revision }, 'the goal listener failed; the watch goes on');
        }
      }
    } finally {
      this.draining = false;
    }
  }

  private becomeReady(): void {
    if (this.isReady) return;
    this.isReady = true;
    this.markReady();
  }
}

/**
 * Whether an entry replaces what was delivered. Revisions only grow within a bucket, and a
 * full mirror keeps the hub's revisions, so a lower revision is a replay — unless the bucket
 * was recreated and counts from 1 again, which shows as a goal written later than ours.
 */
function isNewer(update: GoalUpdate, known: GoalUpdate | undefined): boolean {
  if (!known) return true;
  if (update.revision > known.revision) return true;
  if (update.revision === known.revision) return false;
  return update.goal !== null && known.goal !== null && Date.parse(update.goal.at) > Date.parse(known.goal.at);
}
