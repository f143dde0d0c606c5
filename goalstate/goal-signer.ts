import { FleetcastError } from '../errors/index.ts';
import { signDocument, type SigningKey } from '../trust/index.ts';
import { checkGoalContent, type Goal, type GoalContent, type GoalPurpose } from './goal-document.ts';

/** Where the coordinator's goal-signing key comes from (trust's SigningKeyFile: re-read when the file changes). */
export interface GoalSigningKey {
  current(): SigningKey;
}

/** Signs a goal (or prefetch hint) over every field, `purpose` and `seq` included. */
export function signGoal(content: GoalContent, purpose: GoalPurpose, seq: number, key: SigningKey): Goal {
  const { canary, ...checked } = checkGoalContent(content);
  // The stored document is exactly what was signed: every field explicit, in a fixed shape. A
  // canary share makes it version 3 (agents older than shares refuse it rather than run it on
  // every machine); a prefetch hint never carries one (every machine may fetch ahead).
  if (canary && purpose === 'goal') return signDocument({ v: 3 as const, purpose, ...checked, canary, seq }, key);
  return signDocument({ v: 2 as const, purpose, ...checked, seq }, key);
}

/**
 * The sequence of a new document for a key: above the one before it, and never below the
 * clock (ms since 1970) — so a bucket lost and created again, whose history is gone, still gets
 * sequences above any an agent applied, as long as the coordinators' clocks do not go back by
 * more than the time since that goal was written. More than 1,000 writes a second to one key
 * would run ahead of the clock, which is harmless: the sequence only has to grow.
 */
export function nextSeq(previous: number | null | undefined, nowMs = Date.now()): number {
  const seq = Math.max((previous ?? 0) + 1, Math.floor(nowMs));
  if (!Number.isSafeInteger(seq)) throw new FleetcastError('INTERNAL', `goal sequence ${seq} is beyond what JSON numbers carry exactly`, { previous });
  return seq;
}

/** The refusal of a coordinator that holds no signing key to write a goal. */
export function noSigningKey(what: string): FleetcastError {
  return new FleetcastError(
    'CONFIG_INVALID',
    `cannot write ${what}: FLEETCAST_GOAL_SIGNING_KEY is not set, and agents apply only goals the coordinator signed; point it at the goal-signing private key (fleetcast up makes one in its directory, goal-signing.key; or: openssl genpkey -algorithm ed25519 -out goal-signing.key) and restart the coordinator. Nothing was written`,
    { setting: 'FLEETCAST_GOAL_SIGNING_KEY' },
  );
}
