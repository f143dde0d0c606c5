import { z } from 'zod';
import { goalSchema } from '../../goalstate/index.ts';
import type { Deployment, ServiceLock, ServiceStatus } from '../deploys/index.ts';

/** A deployment as the API and `fleetcast deploy|rollback --json` show it. */
export const deploymentJson = z
  .object({
    id: z.string().meta({ description: 'd7; while SQL was down (spooled: true) a placeholder d9<ms, 15 digits>' }),
    service: z.string(),
    build: z.string(),
    regions: z.array(z.string()),
    kind: z.enum(['deploy', 'rollback']),
    requestedBy: z.string(),
    reason: z.string(),
    status: z.enum(['WRITING', 'APPLIED', 'FAILED']),
    createdAt: z.iso.datetime(),
    error: z.string().nullable(),
    spooled: z.boolean().meta({ description: 'true: SQL was down; the record is written to it when it answers again' }),
  })
  .meta({ id: 'Deployment' });

export type DeploymentJson = z.output<typeof deploymentJson>;

export const deploymentListJson = z.object({ deployments: z.array(deploymentJson) }).meta({ id: 'DeploymentList' });
export type DeploymentListJson = z.output<typeof deploymentListJson>;

export const lockJson = z.object({ service: z.string(), lockedBy: z.string(), reason: z.string(), since: z.iso.datetime() }).meta({ id: 'Lock' });
export type LockJson = z.output<typeof lockJson>;

export const serviceStatusJson = z
  .object({
    service: z.string(),
    lock: lockJson.nullable(),
    regions: z.array(z.object({ region: z.string(), goal: goalSchema.nullable(), revision: z.number().nullable() })),
  })
  .meta({ id: 'ServiceStatus' });
export type ServiceStatusJson = z.output<typeof serviceStatusJson>;

export function toDeploymentJson(deployment: Deployment): DeploymentJson {
  return { ...deployment, createdAt: deployment.createdAt.toISOString(), spooled: deployment.spooled === true };
}

export function toLockJson(lock: ServiceLock): LockJson {
  return { ...lock, since: lock.since.toISOString() };
}

export function toServiceStatusJson(status: ServiceStatus): ServiceStatusJson {
  return { service: status.service, lock: status.lock ? toLockJson(status.lock) : null, regions: status.regions };
}
