// The refusals a preview can tell before anything is asked of the coordinator, worded like the
// coordinator's own (coordinator/deploys/): the person learns at once instead of at Confirm.
import { FleetcastError } from '../../errors/index.ts';
import type { BuildInfo, LockJson } from './fleet-json.ts';

/** NOT_DEPLOYABLE for a build that is not SUCCEEDED, or has no verified copy in one of `regions` (its copies in `details.copies`). */
export function deployRefusal(build: BuildInfo, regions: string[]): FleetcastError | null {
  if (build.status !== 'SUCCEEDED') {
    const why = build.status === 'FAILED' ? ` (${build.failureReason ?? 'no reason recorded'})` : '; wait until it ends';
    return new FleetcastError('NOT_DEPLOYABLE', `${build.id} of ${build.service} is ${build.status}${why}: only a SUCCEEDED build can be deployed. Nothing was deployed.`, {
      build: build.id,
      status: build.status,
      missingRegions: [],
    });
  }
  const copies = (build.replication ?? []).filter((copy) => regions.includes(copy.region));
  const missing = copies.filter((copy) => copy.status !== 'DONE' || copy.removedAt !== null);
  if (missing.length === 0) return null;
  const names = missing.map((copy) => copy.region);
  return new FleetcastError(
    'NOT_DEPLOYABLE',
    `${build.id} is not deployable to ${names.join(', ')} yet: ${build.deployableReason ?? 'no verified copy there'}. Nothing was deployed — wait for the copies, or deploy to the other regions: \`/deploy ${build.id} ${regions.filter((r) => !names.includes(r)).join(',') || 'REGIONS'}\``,
    { build: build.id, status: build.status, missingRegions: names, copies: missing },
  );
}

/** LOCKED: by whom, why, since, and how to unlock. */
export function lockedRefusal(lock: LockJson): FleetcastError {
  return new FleetcastError('LOCKED', `${lock.service} is locked by ${lock.lockedBy} since ${lock.since} (${lock.reason}); nothing was deployed — ask them, or \`/unlock ${lock.service}\` when it is safe.`, {
    service: lock.service,
    lockedBy: lock.lockedBy,
    reason: lock.reason,
    since: lock.since,
  });
}
