import type { Plan } from './plan.ts';

/** What happened to a plan in this bot process. */
export type PlanState<T> =
  | { state: 'confirmed'; by: string; result: Promise<T>; /** Set once the work is done. */ value?: T }
  | { state: 'cancelled'; by: string };

export interface PlanBookOptions {
  /** How long a plan's outcome is kept (a click after that starts over, and the coordinator's idempotency key still holds). @defaultValue 1 h */
  ttlMs?: number;
  /** @defaultValue Date.now */
  now?: () => number;
}

/**
 * The outcome of each preview's buttons: the first Confirm runs the work, every later click
 * on the same preview (a double click, a second tab) gets the same result back; Cancel and
 * Confirm exclude each other. This holds within one process; across restarts the plan's
 * Idempotency-Key makes the coordinator answer with the deployment it already made.
 */
export class PlanBook<T> {
  private readonly plans = new Map<string, { at: number; state: PlanState<T> }>();
  private readonly ttlMs: number;
  private readonly now: () => number;

  constructor(options: PlanBookOptions = {}) {
    this.ttlMs = options.ttlMs ?? 3_600_000;
    this.now = options.now ?? Date.now;
  }

  /** Runs `work` for the first confirmation of a plan; `first: false` with the earlier state otherwise. */
  confirm(plan: Plan, by: string, work: () => Promise<T>): { first: true; result: Promise<T> } | { first: false; earlier: PlanState<T> } {
    this.forgetOld();
    const earlier = this.plans.get(plan.id);
    if (earlier) return { first: false, earlier: earlier.state };
    const result = work();
    const state: PlanState<T> & { state: 'confirmed' } = { state: 'confirmed', by, result };
    // A failed attempt may be tried again (the coordinator refused or was unreachable): nothing was done.
    result.then(
      (value) => (state.value = value),
      () => this.plans.delete(plan.id),
    );
    this.plans.set(plan.id, { at: this.now(), state });
    return { first: true, result };
  }

  /** Cancels a plan not yet confirmed; returns the earlier state if it was confirmed or cancelled before. */
  cancel(plan: Plan, by: string): PlanState<T> | null {
    this.forgetOld();
    const earlier = this.plans.get(plan.id);
    if (earlier) return earlier.state;
    this.plans.set(plan.id, { at: this.now(), state: { state: 'cancelled', by } });
    return null;
  }

  private forgetOld(): void {
    const now = this.now();
    for (const [id, entry] of this.plans) {
      if (now - entry.at < this.ttlMs) return;
      this.plans.delete(id);
    }
  }
}
