import type { ServiceStatusJson } from '../../../api-contract/index.ts';
import type { DeployService } from '../../deploys/index.ts';
import type { Principal } from '../auth/index.ts';
import { toServiceStatusJson } from '../deployment-json.ts';
import { statusForReader } from '../status-for-reader.ts';
import { ChangeWatch } from './change-watch.ts';
import type { ServerMessage } from './messages.ts';
import type { NextStep } from './polling-loop.ts';

/**
 * What makes a status change worth telling: goals, machines, lock, newest deployment — not the
 * mirror check's own clock (checkedAt, lastActiveMs tick on every check and would redraw every
 * watcher for nothing).
 */
function changeKey(status: ServiceStatusJson): string {
  return JSON.stringify({ ...status, regions: status.regions.map((r) => ({ ...r, mirror: r.mirror && { ...r.mirror, checkedAt: null, lastActiveMs: null } })) });
}

/**
 * A subscription to a service's status (`fleetcast status --watch`, dashboards): the same
 * document as GET /v1/services/:name/status, at once and on every change, never final. A read
 * costs the goal of each region (one KV get on the hub) and two indexed SQL reads, hence its
 * own, slower poll than a deployment's.
 */
export function statusWatch(
  service: string,
  principal: Principal,
  deploys: Pick<DeployService, 'status'>,
  send: (message: ServerMessage) => void,
  pollMs: number,
  onError: (err: unknown) => NextStep,
): ChangeWatch<ServiceStatusJson> {
  return new ChangeWatch({
    read: async () => statusForReader(toServiceStatusJson(await deploys.status(service)), principal),
    changeKey,
    message: (status) => ({ type: 'status', status }),
    isFinal: () => false,
    send,
    pollMs,
    onError,
  });
}
