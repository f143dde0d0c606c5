import { FleetcastError } from '../../errors/index.ts';
import type { ServiceStatus } from '../deploys/index.ts';

/**
 * Why a service may not be removed now, judged by its regions' status views: machines still
 * report running it, or a region's reports cannot be read (then nobody can tell it is unused).
 * Null: no machine runs it. `--force` (?force=true) removes it anyway.
 */
export function serviceInUse(status: ServiceStatus): FleetcastError | null {
  const running = status.regions
    .map(({ region, convergence }) => ({ region, known: convergence.known, live: convergence.machines - convergence.silent }))
    .filter((region) => !region.known || region.live > 0);
  if (running.length === 0) return null;
  const where = running.map((region) => (region.known ? `${region.region}: ${region.live} machine${region.live === 1 ? '' : 's'}` : `${region.region}: reports unreadable`)).join(', ');
  return new FleetcastError(
    'SERVICE_IN_USE',
    `service ${status.service} still runs (${where}); stop it on those machines first, or remove it anyway with: fleetcast service remove ${status.service} --force`,
    { service: status.service, regions: running },
  );
}
