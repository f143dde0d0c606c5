import type { DeployService } from '../../deploys/index.ts';
import { toDeploymentProgressJson, type DeploymentProgressJson } from '../deployment-json.ts';
import { ChangeWatch } from './change-watch.ts';
import type { ServerMessage } from './messages.ts';
import type { NextStep } from './polling-loop.ts';

/**
 * A subscription to a deployment: its progress (the deployment, and per region where the
 * machines stand against its build) at once and on every change, the last one `final`.
 * Progress comes from the coordinator's in-memory view of the agents' reports, so a poll costs
 * one primary-key read of the deployment row.
 */
export function deploymentWatch(
  deploymentId: string,
  deploys: Pick<DeployService, 'progress'>,
  send: (message: ServerMessage) => void,
  pollMs: number,
  onError: (err: unknown) => NextStep,
): ChangeWatch<DeploymentProgressJson> {
  return new ChangeWatch({
    read: async () => toDeploymentProgressJson(await deploys.progress(deploymentId)),
    changeKey: (progress) => JSON.stringify(progress),
    message: (progress) => ({ type: 'deployment', ...progress }),
    isFinal: (progress) => progress.final,
    send,
    pollMs,
    onError,
  });
}
