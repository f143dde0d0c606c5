import type { DeployService } from '../../deploys/index.ts';
import { toDeploymentProgressJson } from '../deployment-json.ts';
import type { ServerMessage } from './messages.ts';
import { PollingLoop, type NextStep } from './polling-loop.ts';

/**
 * One subscription to a deployment: sends its progress at once (the deployment, and per region
 * where the machines stand against its build), then on every change, and stops after the
 * message that says `final`. Progress comes from the coordinator's in-memory view of the
 * agents' reports, so a poll costs one primary-key read of the deployment row.
 */
export class DeploymentWatch {
  private readonly loop: PollingLoop;
  private last: string | null = null;

  constructor(
    private readonly deploymentId: string,
    private readonly deploys: Pick<DeployService, 'progress'>,
    private readonly send: (message: ServerMessage) => void,
    pollMs: number,
    onError: (err: unknown) => NextStep,
  ) {
    this.loop = new PollingLoop(() => this.step(), pollMs, onError);
  }

  start(): void {
    this.loop.start();
  }

  stop(): void {
    this.loop.stop();
  }

  private async step(): Promise<NextStep> {
    const progress = toDeploymentProgressJson(await this.deploys.progress(this.deploymentId));
    const text = JSON.stringify(progress);
    if (text !== this.last) {
      this.last = text;
      this.send({ type: 'deployment', ...progress });
    }
    return progress.final ? 'done' : 'later';
  }
}
