import { ServicesAndBuilds } from './0001-services-and-builds.ts';
import { Replications } from './0002-replications.ts';
import { DeploymentsLocksAudit } from './0003-deployments-locks-audit.ts';

/** Every migration, in order. Append only. */
export const migrations = [ServicesAndBuilds, Replications, DeploymentsLocksAudit];
