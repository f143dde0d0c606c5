import type { DeployService } from '../deploys/index.ts';
import type { Principal } from './auth/index.ts';

/**
 * The audit row of a change a route made itself (builds, cancels, copies, services; deploys,
 * rollbacks and locks are audited by DeployService). Spooled while SQL is down, like every row.
 */
export function auditChange(deploys: Pick<DeployService, 'record'>, principal: Principal | string, action: string, target: string, detail: Record<string, unknown>): Promise<void> {
  const actor = typeof principal === 'string' ? principal : principal.name;
  const via = typeof principal === 'string' ? undefined : principal.onBehalf;
  return deploys.record({ at: new Date(), actor, action, target, result: 'ok', detail: via ? { ...detail, via } : detail });
}
