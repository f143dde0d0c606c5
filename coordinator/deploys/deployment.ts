import type { DeploymentKind, DeploymentStatus } from '../../entities/index.ts';
import { finalDeploymentStatuses, fromSqlTime } from '../../entities/index.ts';
import { FleetcastError } from '../../errors/index.ts';
import { decodeWaves, type Wave } from './waves.ts';

export type { DeploymentKind, DeploymentStatus };

/** A deploy or rollback as the service and its callers see it. */
export interface Deployment {
  /** `d7`; a placeholder (see placeholderDeploymentId) only in a goal written while SQL was down. */
  id: string;
  service: string;
  build: string;
  regions: string[];
  kind: DeploymentKind;
  requestedBy: string;
  reason: string;
  status: DeploymentStatus;
  createdAt: Date;
  /** Why it FAILED (which wave, why, what was done about it), was ABORTED or SUPERSEDED. */
  error: string | null;
  /** The rollout, wave by wave; one wave of every region for rollbacks and `--regions`. */
  waves: Wave[];
  /** When every wave had converged (every live machine on the build); null until then. */
  convergedAt: Date | null;
  /**
   * The rollback that put this deployment's written regions back on the build they ran before
   * (after a failed wave, or an abort); `pending` while it is being done; null when there was
   * none. A placeholder id when it ran while SQL was down.
   */
  rollback: string | null;
  /** True when SQL was down: the record waits in the spool and `id` is a placeholder. */
  spooled?: boolean;
}

export interface ServiceLock {
  service: string;
  lockedBy: string;
  reason: string;
  since: Date;
}

export function formatDeploymentId(id: number | string): string {
  return `d${id}`;
}

/**
 * The deployment id a goal carries when a rollback ran while SQL was down and no row could be
 * numbered: `d9` + the time in ms, zero-padded to 15 digits (17 digits in all). AUTO_INCREMENT
 * never gets near 10^16, so such an id cannot clash with a real one; the spooled record keeps
 * it and the audit row written later names both it and the real id.
 */
export function placeholderDeploymentId(at: Date): string {
  return `d9${String(at.getTime()).padStart(15, '0')}`;
}

export function isPlaceholderDeploymentId(id: string): boolean {
  return /^d9\d{15}$/.test(id);
}

export function toDeployment(row: Record<string, unknown>): Deployment {
  const regions = String(row.regions).split(',').filter(Boolean);
  const status = row.status as DeploymentStatus;
  return {
    id: formatDeploymentId(String(row.id)),
    service: String(row.service),
    build: `b${String(row.build_id)}`,
    regions,
    kind: row.kind as DeploymentKind,
    requestedBy: String(row.requested_by),
    reason: String(row.reason),
    status,
    createdAt: fromSqlTime(row.created_at)!,
    error: (row.error as string | null) ?? null,
    waves: decodeWaves(row.waves, regions, status),
    convergedAt: fromSqlTime(row.converged_at),
    rollback: row.rollback_deployment === null || row.rollback_deployment === undefined ? null : String(row.rollback_deployment),
  };
}

/** No further change will come: every wave converged, or the rollout ended otherwise (and its rollback, if any, is done). */
export function isFinal(deployment: Deployment): boolean {
  return (finalDeploymentStatuses as readonly string[]).includes(deployment.status) && deployment.rollback !== pendingRollback;
}

/** deployments.rollback_deployment while the automatic rollback of a failed wave is claimed but not yet written. */
export const pendingRollback = 'pending';

export function parseDeploymentId(ref: string): number {
  const match = /^d?(\d{1,15})$/.exec(ref.trim());
  if (!match) throw new FleetcastError('INVALID_INPUT', `"${ref}" is not a deployment id; deployment ids look like d7`, { deployment: ref });
  return Number(match[1]);
}

export function toLock(row: Record<string, unknown>): ServiceLock {
  return { service: String(row.service), lockedBy: String(row.locked_by), reason: String(row.reason), since: fromSqlTime(row.since)! };
}

/** The refusal of a deploy to a locked service: who locked it, why, since when, and what to do. */
export function lockedError(lock: ServiceLock): FleetcastError {
  return new FleetcastError(
    'LOCKED',
    `service ${lock.service} is locked by ${lock.lockedBy} since ${lock.since.toISOString()} (${lock.reason}); nothing was deployed — ask them, or run fleetcast unlock ${lock.service} when it is safe to deploy again`,
    { service: lock.service, lockedBy: lock.lockedBy, reason: lock.reason, since: lock.since.toISOString() },
  );
}
