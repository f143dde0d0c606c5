import type { Database } from '../../entities/index.ts';
import { PeriodicTask } from '../../lifecycle/index.ts';
import type { Logger } from '../../logging/index.ts';
import { GithubDelivery, type GithubAuth } from './github-delivery.ts';
import { GithubEvents } from './github-events.ts';
import { GithubOutbox } from './github-outbox.ts';

export interface GithubRelayOptions {
  auth: GithubAuth;
  apiUrl: string;
  /** Pause between rounds. @defaultValue 2 s */
  intervalMs?: number;
  /** Pause before the first retry of a failed call. @defaultValue 2 s */
  retryMs?: number;
  logger: Logger;
}

/**
 * Keeps GitHub told about builds (commit statuses) and deploys and rollbacks (deployments with
 * a status per region): each round adds what changed to the outbox, then sends what is due.
 * Runs beside the rest of the coordinator and never in its way: GitHub down only means the
 * outbox grows until it answers again.
 */
export class GithubRelay {
  private constructor(
    readonly outbox: GithubOutbox,
    private readonly task: PeriodicTask,
  ) {}

  /** Opens the cursors (a new installation starts at the newest build and deployment) and starts the rounds. */
  static async start(db: Database, options: GithubRelayOptions): Promise<GithubRelay> {
    const outbox = new GithubOutbox(db);
    const events = await GithubEvents.open(db, outbox, options.logger);
    const delivery = new GithubDelivery(outbox, { auth: options.auth, apiUrl: options.apiUrl, retryMs: options.retryMs ?? 2_000, logger: options.logger });
    const task = new PeriodicTask(
      'telling GitHub about builds and deploys',
      options.intervalMs ?? 2_000,
      async () => {
        await events.scan();
        await delivery.deliver();
      },
      options.logger,
    );
    task.start();
    return new GithubRelay(outbox, task);
  }

  stop(): Promise<void> {
    return this.task.stop();
  }
}
