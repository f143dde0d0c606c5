import { isFleetcastError, type FleetcastError } from '../../errors/index.ts';
import type { GoalRevision, GoalTarget, GoalWriter, ServiceStatusSummary } from '../../goalstate/index.ts';

/** What deploys need of the goal state: the coordinator's GoalWriter, or a stand-in in tests. */
export type GoalStore = Pick<GoalWriter, 'get' | 'put' | 'putPrefetch' | 'history' | 'signs'>;

/**
 * The fleet as deploys see it: the goal state (NATS_UNAVAILABLE while the hub is out of reach)
 * and, per region, where a service's machines stand (null while that region's reports cannot
 * be read). The coordinator's HubLink, or a stand-in in tests.
 */
export interface FleetState {
  goals(): GoalStore;
  /** Where the service's machines in `region` stand against the signed goal `target`; null while that region's reports cannot be read. */
  summary(region: string, service: string, target: GoalTarget | null): ServiceStatusSummary | null;
}

/** A region's goal key as deploys read it: the goal, or the malformed value standing in its place. */
export interface GoalRead {
  current: GoalRevision | null;
  /** The key's revision, a malformed value's too: what a compare-and-set write must expect. */
  revision: number | null;
  /**
   * Set when the stored value does not parse (GOAL_INVALID) or is not signed by a trusted key
   * (GOAL_SIGNATURE_INVALID): agents ignore it and keep their last goal.
   */
  invalid: FleetcastError | null;
}

/**
 * Reads a goal without letting a malformed or unverifiable value (written by hand, by a broken
 * tool, before goals were signed, or signed by a key no longer trusted) stop status or deploys:
 * status reports it, and the next deploy or rollback overwrites it.
 */
export async function readGoal(goals: GoalStore, service: string, region: string): Promise<GoalRead> {
  try {
    const current = await goals.get(service, region);
    return { current, revision: current?.revision ?? null, invalid: null };
  } catch (err) {
    if (!isFleetcastError(err, 'GOAL_INVALID') && !isFleetcastError(err, 'GOAL_SIGNATURE_INVALID')) throw err;
    const revision = Number(err.details.revision);
    return { current: null, revision: Number.isInteger(revision) && revision > 0 ? revision : null, invalid: err };
  }
}

/** What a machine must report to count as running a stored, verified goal. */
export function targetOf(goal: GoalRevision['goal'] | null | undefined): GoalTarget | null {
  return goal ? { build: goal.build, digest: goal.digest, seq: goal.seq, share: goal.canary?.share ?? null } : null;
}
