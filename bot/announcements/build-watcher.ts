import type { RespondFn } from '@slack/bolt';
import { isFleetcastError } from '../../errors/index.ts';
import type { Logger } from '../../logging/index.ts';
import type { FleetApi } from '../fleet/fleet-api.ts';
import type { BuildInfo } from '../fleet/fleet-json.ts';
import { buildFinishedMessage } from '../messages/build-messages.ts';
import type { BackgroundTasks } from '../progress/background-tasks.ts';
import type { Announcer } from './announcer.ts';

/**
 * Waits for a build queued from Slack to end, then tells the person who queued it and
 * announces it in the service's channel.
 */
export class BuildWatcher {
  /** Builds being waited for, with everyone who asked for them (the same commit asked for twice is one build). */
  private readonly waiting = new Map<string, RespondFn[]>();

  constructor(
    private readonly fleet: FleetApi,
    private readonly announcer: Announcer,
    private readonly tasks: BackgroundTasks,
    private readonly logger: Logger,
  ) {}

  start(build: BuildInfo, respond: RespondFn): void {
    const askers = this.waiting.get(build.id);
    if (askers) {
      askers.push(respond);
      return;
    }
    const everyone = [respond];
    this.waiting.set(build.id, everyone);
    this.tasks.run(`wait for ${build.id}`, async (signal) => {
      let finished: BuildInfo;
      try {
        finished = await this.fleet.followBuild(build.id, signal);
      } catch (err) {
        if (!isFleetcastError(err, 'CANCELLED')) this.logger.warn({ err, build: build.id }, 'lost track of a build');
        return;
      } finally {
        this.waiting.delete(build.id);
      }
      const message = buildFinishedMessage(finished);
      this.logger.info({ build: finished.id, service: finished.service, status: finished.status }, 'build finished');
      for (const tell of everyone) {
        await tell({ response_type: 'ephemeral', replace_original: false, text: message.text, blocks: message.blocks }).catch((err: unknown) =>
          this.logger.warn({ err, build: build.id }, 'could not tell the requester (response_url expired?)'),
        );
      }
      await this.announcer.announce(finished.service, message);
    });
  }
}
