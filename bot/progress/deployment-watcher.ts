import type { RespondFn, webApi } from '@slack/bolt';
import { isFleetcastError } from '../../errors/index.ts';
import type { Logger } from '../../logging/index.ts';
import type { Announcer } from '../announcements/announcer.ts';
import type { FleetApi } from '../fleet/fleet-api.ts';
import type { DeploymentEvent, DeploymentInfo } from '../fleet/fleet-json.ts';
import { section } from '../messages/blocks.ts';
import { progressMessage, type ProgressView } from '../messages/deployment-progress.ts';
import { mention } from '../slack/slack-user.ts';
import type { BackgroundTasks } from './background-tasks.ts';
import { ChannelMessage } from './channel-message.ts';
import { CoalescingUpdater } from './coalescing-updater.ts';
import type { ProgressMessage } from './progress-message.ts';
import { ResponseUrlMessage } from './response-url-message.ts';

export interface DeploymentWatcherOptions {
  /** Least time between two updates of a progress message. @defaultValue 1000 */
  minUpdateIntervalMs?: number;
}

export interface WatchRequest {
  deployment: DeploymentInfo;
  /** Slack user id of who confirmed. */
  confirmedBy: string;
  /** The channel the command was run in: the progress message goes there. */
  channel: string;
  /** The preview's response_url: replaced by a pointer to the progress message (or by the progress, where the bot may not post). */
  respond: RespondFn;
}

/**
 * Keeps ONE message per deploy or rollback updated with each region's progress until the
 * coordinator says it is final (converged or failed), from the /v1/events deployment stream;
 * then announces the outcome in the service's channel.
 */
export class DeploymentWatcher {
  private readonly minUpdateIntervalMs: number;

  constructor(
    private readonly fleet: FleetApi,
    private readonly client: webApi.WebClient,
    private readonly announcer: Announcer,
    private readonly tasks: BackgroundTasks,
    private readonly logger: Logger,
    options: DeploymentWatcherOptions = {},
  ) {
    this.minUpdateIntervalMs = options.minUpdateIntervalMs ?? 1_000;
  }

  /** Posts the progress message and follows the deployment, in the background. */
  start(request: WatchRequest): void {
    const first: ProgressView = { deployment: request.deployment, confirmedBy: request.confirmedBy, progress: null, final: false };
    this.tasks.run(`follow ${request.deployment.id}`, async (signal) => {
      const message = await this.open(request, progressMessage(first));
      await this.follow(message, first, signal);
    });
  }

  private async open(request: WatchRequest, initial: ReturnType<typeof progressMessage>): Promise<ProgressMessage> {
    try {
      const message = await ChannelMessage.post(this.client, request.channel, initial);
      await request
        .respond({ response_type: 'ephemeral', replace_original: true, text: initial.text, blocks: [section(`Confirmed by ${mention(request.confirmedBy)}: ${initial.text}; progress is in the channel.`)] })
        .catch((err: unknown) => this.logger.warn({ err }, 'could not replace the preview'));
      return message;
    } catch (err) {
      // A DM or a channel the bot was not invited to: the preview itself shows the progress.
      this.logger.info({ err, channel: request.channel, deployment: request.deployment.id }, 'cannot post in the channel; showing progress in the preview');
      const message = new ResponseUrlMessage(request.respond);
      await message.show(initial, false);
      return message;
    }
  }

  private async follow(message: ProgressMessage, first: ProgressView, signal: AbortSignal): Promise<void> {
    const updater = new CoalescingUpdater(message, this.minUpdateIntervalMs, this.logger);
    const render = (event: DeploymentEvent): ProgressView => ({ ...first, deployment: event.deployment, progress: event.progress, final: event.final });
    let last: ProgressView = first;
    let view: ProgressView;
    if (first.deployment.spooled) {
      // Written while the coordinator's database was down: no row to follow; the agents move on their own.
      await updater.finish(progressMessage({ ...first, final: true }));
      await this.announcer.announce(first.deployment.service, progressMessage({ ...first, final: true }), message.channel);
      return;
    }
    try {
      const final = await this.fleet.followDeployment(
        first.deployment.id,
        (event) => {
          last = render(event);
          if (!event.final) updater.push(progressMessage(last));
        },
        signal,
      );
      view = final ? render(final) : { ...first, final: true };
    } catch (err) {
      const why = isFleetcastError(err, 'CANCELLED') ? 'the bot was stopped' : (err as Error).message;
      if (!isFleetcastError(err, 'CANCELLED')) this.logger.warn({ err, deployment: first.deployment.id }, 'lost track of a deployment');
      view = { ...last, final: false, lostTrack: why };
    }
    await updater.finish(progressMessage(view));
    this.logger.info({ deployment: view.deployment.id, service: view.deployment.service, status: view.deployment.status, final: view.final }, 'progress message final');
    if (view.final) await this.announcer.announce(view.deployment.service, progressMessage(view), message.channel);
  }
}
