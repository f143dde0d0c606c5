import { FleetcastError } from '../../errors/index.ts';
import { formatBuildId, type Build } from '../../queue/index.ts';
import type { BuildReplication } from '../replication/index.ts';

/** The regions a request names, checked against FLEETCAST_REGIONS; all of them when it names none. */
export function requestedRegions(requested: string[] | undefined, configured: readonly string[]): string[] {
  if (requested === undefined || requested.length === 0) return [...configured];
  const unknown = requested.filter((region) => !configured.includes(region));
  if (unknown.length > 0) {
    throw new FleetcastError('INVALID_INPUT', `unknown region ${unknown.join(', ')}: the configured regions are ${configured.join(', ')}`, { regions: unknown, configured });
  }
  return [...new Set(requested)];
}

/**
 * Refuses a build that may not go to these regions: not SUCCEEDED, or without a verified copy
 * in one of them (named, with the replication status's reason).
 */
export function checkDeployable(build: Build, replication: BuildReplication, regions: string[]): void {
  const id = formatBuildId(build.id);
  if (build.status !== 'SUCCEEDED') {
    const why = build.status === 'FAILED' ? ` (${build.failureReason ?? 'no reason recorded'})` : '';
    throw new FleetcastError('NOT_DEPLOYABLE', `build ${id} of ${build.service} is ${build.status}${why}, not SUCCEEDED: only a SUCCEEDED build can be deployed; nothing was deployed`, {
      build: id,
      status: build.status,
      missingRegions: [],
    });
  }
  const missing = replication.regions.filter((r) => regions.includes(r.region) && (r.status !== 'DONE' || r.removedAt !== null)).map((r) => r.region);
  if (missing.length > 0) {
    throw new FleetcastError(
      'NOT_DEPLOYABLE',
      `build ${id} is not deployable to ${missing.join(', ')}: ${replication.reason ?? 'no verified copy there'}; nothing was deployed — wait for the copies (fleetcast show ${id}) or deploy to the other regions with --regions`,
      { build: id, status: build.status, missingRegions: missing },
    );
  }
}
