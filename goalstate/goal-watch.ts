import type { KvWatchEntry, RoKV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/nats-core';
import { FleetcastError, isFleetcastError } from '../errors/index.ts';
import type { Logger } from '../logging/index.ts';
import type { VerifyingKeyring } from '../trust/index.ts';
import { decodeGoal, decodePrefetchHint, type Goal } from './goal-document.ts';
import { GoalLedger, type GoalSeqStore, type GoalUpdate } from './goal-ledger.ts';
import { parseGoalBucketKey } from './names.ts';
import { ResilientWatch } from './resilient-watch.ts';

export type { GoalUpdate };

export type GoalListener = (update: GoalUpdate) => void | Promise<void>;

/**
 * The build a prefetch hint names, if the hint counts: only one whose signed sequence is above
 * its service's goal's (`goalSeq`) does, so the wave itself, a rollback or a later deploy ends
 * it, and an old hint replayed never counts.
 */
export function liveHint(hint: GoalUpdate | undefined, goalSeq: number | undefined): Goal | undefined {
  return hint?.goal && hint.goal.seq > (goalSeq ?? 0) ? hint.goal : undefined;
}

export interface GoalWatchOptions {
  /**
   * A stored document that is not applied: malformed (GOAL_INVALID), not signed by a trusted key
   * or changed since it was signed (GOAL_SIGNATURE_INVALID), or an old one replayed
   * (GOAL_REPLAYED). Its details name the `key`, and `purpose` (goal or prefetch). It is not
   * delivered: the service keeps its previous goal. Delivered in order with the goals.
   * @defaultValue logged as a warning
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
  /**
   * Where the highest goal sequence accepted per service is kept across restarts (the agent's,
   * on disk): a goal is recorded there before it is delivered, and one at or below it is refused
   * as replayed even by a watch that just started. @defaultValue in memory, for this watch only
   */
  seqStore?: GoalSeqStore;
}

/** Pause before a goal whose sequence could not be recorded is tried again. */
const recordRetryMs = 1_000;

/**
 * Delivers the CURRENT goal of each watched service, level-triggered:
 * - only documents a trusted key signed for this very key and purpose; the others go to onError;
 * - first the goal of every watched service that has one, then each change;
 * - ordered by the documents' signed sequence (GoalLedger): never an older goal after a newer
 *   one, whatever order a mirror — catching up, recreated, or written by someone else — holds
 *   them in; an old one replayed is refused (GOAL_REPLAYED);
 * - bursts are coalesced: while more entries are pending, or while the listener is still
 *   busy with the previous goal of the service, only the latest one is kept and delivered;
 * - one delivery at a time, in order; the listener may be async and is awaited.
 * A listener should compare the goal with what is installed and act on the difference: it may
 * see the same goal again, and it may not see every intermediate goal.
 */
export class GoalWatch {
  /** Resolves once the goals that existed when the watch started were delivered. */
  readonly ready: Promise<void>;
  private readonly goals: GoalLedger;
  private readonly hints: GoalLedger;
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
    private readonly options: GoalWatchOptions & { server: string; logger: Logger; keyring: VerifyingKeyring | undefined; stream?: string; onStopped?: () => void },
  ) {
    this.goals = new GoalLedger('goal', options.seqStore);
    this.hints = new GoalLedger('prefetch', undefined);
    this.ready = new Promise((resolve) => (this.markReady = resolve));
    this.filter = services ? new Set(services) : undefined;
    this.watch = new ResilientWatch({
      nc,
      kv,
      // One filter subject (NATS 2.9 has no multi-filter consumers): the service's key, or the region's keys.
      key: services?.length === 1 && !options.onPrefetch ? `${services[0]}.${region}` : `*.${region}`,
      what: `goal watch of region ${region}`,
      // The mirror replaced (repaired by the coordinator, or by someone else): read it anew.
      streamAdvisories: options.stream,
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
    return this.goals.known.get(service);
  }

  /** Every watched service's current goal. */
  snapshot(): GoalUpdate[] {
    return [...this.goals.known.values()];
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
    const ledger = kind === 'goal' ? this.goals : this.hints;
    try {
      const decode = kind === 'goal' ? decodeGoal : decodePrefetchHint;
      const goal = entry.operation === 'PUT' ? decode(entry.value, entry.key, entry.revision, { keyring: this.options.keyring }) : null;
      ledger.offer({ service, region: this.region, goal, revision: entry.revision, storedAt: entry.created });
    } catch (err) {
      if (!isFleetcastError(err, 'GOAL_INVALID') && !isFleetcastError(err, 'GOAL_SIGNATURE_INVALID')) throw err;
      ledger.refuse(service, err);
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
      // Goals before hints, and each kind's accepted documents before its refusals.
      for (let next = this.next(); next && !this.stopped; next = this.next()) await next();
    } finally {
      this.draining = false;
    }
  }

  /** The next delivery, or undefined when nothing waits. */
  private next(): (() => Promise<void>) | undefined {
    for (const ledger of [this.goals, this.hints]) {
      const service = ledger.dirty.values().next().value;
      if (service !== undefined) {
        ledger.dirty.delete(service);
        return () => this.deliverUpdate(ledger, ledger.known.get(service)!);
      }
      const refusal = ledger.refusals.entries().next().value;
      if (refusal) {
        ledger.refusals.delete(refusal[0]);
        return async () => this.deliverRefusal(refusal[0], ledger, refusal[1]);
      }
    }
    return undefined;
  }

  private async deliverUpdate(ledger: GoalLedger, update: GoalUpdate): Promise<void> {
    const { service } = update;
    if (update.goal && ledger.store) {
      try {
        await ledger.store.record(service, { seq: update.goal.seq, sig: update.goal.sig.value });
      } catch (err) {
        // Not recorded, not applied: a goal applied without its sequence on disk could be replayed after a restart.
        this.options.logger.error({ err, service, region: this.region, seq: update.goal.seq }, `could not record the sequence of the goal of ${service}; it is not applied yet, trying again in ${recordRetryMs} ms`);
        setTimeout(() => {
          if (ledger.known.get(service) !== update) return;
          ledger.dirty.add(service);
          void this.deliver();
        }, recordRetryMs).unref();
        return;
      }
    }
    const listener = ledger === this.goals ? this.onGoal : this.options.onPrefetch!;
    try {
      // A synchronous listener runs right here, without a turn of the event loop per goal.
      const result = listener(update);
      if (result) await result;
    } catch (err) {
      this.options.logger.warn({ err, service, region: this.region, revision: update.revision }, 'the goal listener failed; the watch goes on');
    }
  }

  private deliverRefusal(service: string, ledger: GoalLedger, error: FleetcastError): void {
    const refusal = new FleetcastError(error.code, error.message, { ...error.details, service, region: this.region, purpose: ledger.purpose }, { cause: error.cause });
    try {
      if (this.options.onError) this.options.onError(refusal);
      else this.options.logger.warn({ err: refusal, service, region: this.region }, refusal.message);
    } catch (err) {
      this.options.logger.warn({ err, service, region: this.region }, 'the refusal listener failed; the watch goes on');
    }
  }

  private becomeReady(): void {
    if (this.isReady) return;
    this.isReady = true;
    this.markReady();
  }
}
