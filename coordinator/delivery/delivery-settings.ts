import type { Database } from '../../entities/index.ts';
import { FleetcastError } from '../../errors/index.ts';
import type { ServiceRegistry } from '../../queue/services/index.ts';
import type { Clock } from './clock.ts';
import * as sql from './delivery-sql.ts';

/** A service's delivery settings as the API shows them. */
export interface Delivery {
  service: string;
  continuousDeploy: { enabled: boolean; branch: string; buildId: number | null; state: string | null; reason: string | null; deployment: string | null; at: Date | null };
  check: { command: string | null; url: string | null; timeoutMs: number | null };
}

/** Continuous deploy on/off and the pre-deploy check of each service (service_delivery). */
export class DeliverySettings {
  constructor(
    private readonly db: Database,
    private readonly services: Pick<ServiceRegistry, 'get'>,
    private readonly clock: Clock,
  ) {}

  async get(service: string): Promise<Delivery> {
    const registered = await this.services.get(service);
    const row = await sql.selectDelivery(this.db, service);
    return {
      service,
      continuousDeploy: {
        enabled: row?.cdEnabled ?? false,
        branch: row?.cdBranch ?? firstBranch(registered.branch),
        buildId: row?.cdBuildId ?? null,
        state: row?.cdState ?? null,
        reason: row?.cdReason ?? null,
        deployment: row?.cdDeployment ?? null,
        at: row?.cdAt ?? null,
      },
      check: { command: row?.checkCommand ?? null, url: row?.checkUrl ?? null, timeoutMs: row?.checkTimeoutMs ?? null },
    };
  }

  /**
   * The branch must be one the service builds (builds of other commits need an admin's
   * override, and those are never deployed continuously).
   */
  async setContinuousDeploy(service: string, enabled: boolean, branch: string | undefined, by: string): Promise<Delivery> {
    const registered = await this.services.get(service);
    const branches = registered.branch.split(',');
    if (branch !== undefined && !branches.includes(branch)) {
      throw new FleetcastError('INVALID_INPUT', `${service} builds from ${branches.join(', ')}, not ${branch}: continuous deploy follows one of the service's branches (fleetcast service update ${service} --branch to change them)`, { branch });
    }
    await sql.upsertContinuousDeploy(this.db, service, enabled, branch ?? null, by, this.clock());
    return this.get(service);
  }

  async setCheck(service: string, check: { command?: string | undefined; url?: string | undefined; timeoutMs?: number | undefined }, by: string): Promise<Delivery> {
    await this.services.get(service);
    if (check.command !== undefined && check.url !== undefined) throw new FleetcastError('INVALID_INPUT', 'a pre-deploy check is a command or a URL, not both');
    await sql.upsertCheck(this.db, service, { command: check.command ?? null, url: check.url ?? null, timeoutMs: check.timeoutMs ?? null }, by, this.clock());
    return this.get(service);
  }
}

export function firstBranch(branches: string): string {
  return branches.split(',')[0]!;
}
