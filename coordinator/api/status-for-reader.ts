import { grants, type ServiceStatusJson } from '../../api-contract/index.ts';
import type { Principal } from './auth/index.ts';

/**
 * A service's status as `principal` may see it. The build's P2P key lets a machine find the
 * region's swarm: deploy scope and above only (a read token, e.g. a dashboard's or a follower's,
 * sees null; admitted peers need it, and get it from their goal). Shared by
 * GET /v1/services/:name/status and the events' status subscription, so neither leaks it.
 */
export function statusForReader(status: ServiceStatusJson, principal: Principal | null | undefined): ServiceStatusJson {
  if (principal && grants(principal.scopes, 'deploy')) return status;
  return { ...status, regions: status.regions.map((r) => ({ ...r, goal: r.goal && { ...r.goal, p2pKey: null } })) };
}
