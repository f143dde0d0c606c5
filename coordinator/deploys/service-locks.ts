import type { Database } from '../../entities/index.ts';
import { FleetcastError } from '../../errors/index.ts';
import type { ServiceRegistry } from '../../queue/services/index.ts';
import type { DeployAudit } from './deploy-audit.ts';
import { toLock, type ServiceLock } from './deployment.ts';
import { viaDetail, type Relay } from './relay.ts';
import * as sql from './sql/deploy-sql.ts';

/** Locks that stop deploys of a service (a rollback sets one too), audited. */
export class ServiceLocks {
  constructor(
    private readonly db: Database,
    private readonly services: Pick<ServiceRegistry, 'get'>,
    private readonly audit: DeployAudit,
  ) {}

  async lock(service: string, request: { by: string; via?: Relay | undefined; reason: string }): Promise<ServiceLock> {
    return this.audit.run('lock', () => service, request.by, { reason: request.reason, ...viaDetail(request.via) }, async () => {
      await this.services.get(service);
      const since = new Date();
      if (!(await sql.insertLockIfAbsent(this.db, service, request.by, request.reason, since))) {
        const lock = await this.get(service);
        throw new FleetcastError(
          'CONFLICT',
          `service ${service} is already locked${lock ? ` by ${lock.lockedBy} since ${lock.since.toISOString()} (${lock.reason})` : ''}; unlock it first to change the reason`,
          { service },
        );
      }
      return { service, lockedBy: request.by, reason: request.reason, since };
    });
  }

  async unlock(service: string, request: { by: string; via?: Relay | undefined }): Promise<ServiceLock> {
    return this.audit.run('unlock', () => service, request.by, viaDetail(request.via), async () => {
      await this.services.get(service);
      const lock = await this.get(service);
      if (!lock || !(await sql.deleteLock(this.db, service))) {
        throw new FleetcastError('NOT_FOUND', `service ${service} is not locked; nothing to unlock (fleetcast status ${service} shows its lock)`, { service });
      }
      return lock;
    });
  }

  async get(service: string): Promise<ServiceLock | null> {
    const row = await sql.selectLock(this.db, service);
    return row ? toLock(row) : null;
  }
}
