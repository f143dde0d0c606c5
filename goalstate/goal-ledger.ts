import { FleetcastError } from '../errors/index.ts';
import type { Goal, GoalPurpose } from './goal-document.ts';

/** The current goal of one service in the watched region. */
export interface GoalUpdate {
  service: string;
  region: string;
  /** null: the goal was deleted (no goal for this service in this region). */
  goal: Goal | null;
  revision: number;
  storedAt: Date;
}

/** The newest document accepted for a service: its sequence and its signature (the same sequence with another signature is not the same document). */
export interface SeqRecord {
  seq: number;
  sig: string;
}

/**
 * Where a reader keeps the highest sequence it accepted per service, so a replay is refused
 * after a restart too (the agent's is on disk). A watch loads it once when it starts, and
 * records each goal in it before delivering it.
 */
export interface GoalSeqStore {
  load(): Map<string, SeqRecord>;
  /** Resolves once the record is durable. */
  record(service: string, record: SeqRecord): Promise<void>;
}

/**
 * What a goal watch knows of one kind of document (goals, or prefetch hints) per service: the
 * last accepted update, which updates and refusals wait to be delivered, and the highest
 * sequence accepted. Documents arrive verified (signature, key, purpose); here they are ordered
 * by their signed sequence, never by the bucket's revision, which whoever can write a mirror
 * controls:
 * - a higher sequence is a new document: delivered;
 * - the document already accepted (same sequence and signature) is delivered again only when
 *   this watch has not delivered it yet (a restarted agent) or a refusal came since (the mirror
 *   was repaired: the reader learns its goal holds again);
 * - a lower sequence, or the same one with another signature, is an old document replayed:
 *   refused with GOAL_REPLAYED.
 */
export class GoalLedger {
  /** The last accepted update per service (delivered, or about to be). */
  readonly known = new Map<string, GoalUpdate>();
  /** Services whose known update waits for delivery. */
  readonly dirty = new Set<string>();
  /** Refusals waiting for delivery, the newest per service. */
  readonly refusals = new Map<string, FleetcastError>();
  private readonly seqs: Map<string, SeqRecord>;
  /** Services refused since their last delivery. */
  private readonly tainted = new Set<string>();

  constructor(
    readonly purpose: GoalPurpose,
    readonly store: GoalSeqStore | undefined,
  ) {
    this.seqs = store?.load() ?? new Map();
  }

  /** A verified document (or a deletion, goal null) arrived for `update.service`. */
  offer(update: GoalUpdate): void {
    const { service, goal } = update;
    const known = this.known.get(service);
    if (goal === null) {
      // A deletion carries no signature and no sequence: what runs keeps running, so it is
      // passed on only when it is newer in this bucket than what was delivered.
      if (!known || update.revision > known.revision) this.accept(update);
      return;
    }
    const last = this.seqs.get(service);
    if (last && (goal.seq < last.seq || (goal.seq === last.seq && goal.sig.value !== last.sig))) {
      this.refuse(service, replayed(this.purpose, update, goal, last));
      return;
    }
    const delivered = known?.goal?.sig.value === goal.sig.value;
    if (delivered && !this.tainted.has(service)) return;
    this.seqs.set(service, { seq: goal.seq, sig: goal.sig.value });
    this.accept(update);
  }

  /** A document that was not accepted (malformed, unsigned, forged, replayed). */
  refuse(service: string, error: FleetcastError): void {
    this.refusals.set(service, error);
    this.tainted.add(service);
  }

  /** The highest sequence accepted for a service. */
  seq(service: string): number | undefined {
    return this.seqs.get(service)?.seq;
  }

  private accept(update: GoalUpdate): void {
    this.known.set(update.service, update);
    this.dirty.add(update.service);
    this.refusals.delete(update.service);
    this.tainted.delete(update.service);
  }
}

function replayed(purpose: GoalPurpose, update: GoalUpdate, goal: Goal, last: SeqRecord): FleetcastError {
  const what = purpose === 'goal' ? 'goal' : 'prefetch hint';
  const key = `${update.service}${purpose === 'goal' ? '' : '_prefetch'}.${update.region}`;
  return new FleetcastError(
    'GOAL_REPLAYED',
    `${what} ${key} at revision ${update.revision} is refused: it is signed, but its sequence ${goal.seq} (${goal.build}, ${goal.deployment}) is ${goal.seq < last.seq ? 'below' : 'the same as'} that of the ${what} already accepted (${last.seq}${goal.seq === last.seq ? ', another document' : ''}) — an old document replayed. Nothing is fetched or run for it and the current goal stays in force; check who can write this region's goal mirror (fleetcast status shows its state)`,
    { key, revision: update.revision, seq: goal.seq, acceptedSeq: last.seq, build: goal.build, deployment: goal.deployment },
  );
}
