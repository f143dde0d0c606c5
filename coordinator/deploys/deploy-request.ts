import { createHash } from 'node:crypto';
import type { Deployment } from './deployment.ts';
import type { Relay } from './relay.ts';

export interface DeployRequest {
  regions?: string[] | undefined;
  /** Explicit waves, e.g. [['eu'], ['us', 'ap']]; overrides the default plan. */
  waves?: string[][] | undefined;
  by: string;
  /** Set when a relay acted for `by`. */
  via?: Relay | undefined;
  reason?: string | undefined;
  /** The client's Idempotency-Key: the same key (from the same caller) gives the same deployment back. */
  idempotencyKey?: string | undefined;
  /** An admin's reason to deploy inside a freeze window (the route checks the admin scope); audited. */
  overrideFreeze?: string | undefined;
}

export interface RollbackRequest extends Omit<DeployRequest, 'waves'> {
  /** `b41`; @defaultValue the build deployed before the current one */
  to?: string | undefined;
  /** The reason the service is locked with (an automatic rollback names the failure). @defaultValue `rolled back by <by>` */
  lockReason?: string | undefined;
}

/** What the request got: a new deployment, or (replayed: true) the one an earlier request with its key made. */
export type DeployOutcome = Deployment & { replayed?: boolean };

/** The actor of what the coordinator does by itself (automatic rollbacks). */
export const systemActor = 'fleetcast';

/** Keys are per caller (two callers may pick the same key) and fixed-length in SQL. */
export function idempotencyKey(by: string, key: string): string {
  return createHash('sha256').update(by).update('\n').update(key).digest('hex');
}
