import type { AnnouncementPageJson, AuditEntryJson } from '../../api-contract/index.ts';
import { isFleetcastError } from '../../errors/index.ts';
import { PeriodicTask } from '../../lifecycle/index.ts';
import type { Logger } from '../../logging/index.ts';
import type { FleetApi } from '../fleet/fleet-api.ts';
import type { BuildInfo, BuildPageJson } from '../fleet/fleet-json.ts';
import { buildFailedMessage, deploymentEndMessage, feedMessage } from '../messages/feed-messages.ts';
import type { BackgroundTasks } from '../progress/background-tasks.ts';
import type { Announcer } from './announcer.ts';

/** How often the bot reads the coordinator's announcement feed and its failed builds. */
export const feedIntervalMs = 2_000;
const pageSize = 100;
/** Failed builds looked at each round: more than fail between two rounds. */
const failedBuildsPage = 50;

/**
 * Announces in each service's channel what happened without the bot: deploys, rollbacks, halts,
 * locks, freezes and continuous deploy's decisions (the coordinator's /v1/announcements feed),
 * each deploy's end (followed on /v1/events), and builds that failed with nobody in Slack waiting
 * for them. What the bot did itself for someone in Slack (the audit row names the bot as relay)
 * it has announced already. The feed starts at the bot's start: a restarted bot does not repeat
 * old news (and what happened while it was down is not announced).
 */
export class FleetFeed {
  private readonly task: PeriodicTask;
  private cursor: number | null = null;
  private readonly seenFailures = new Set<string>();
  private failuresPrimed = false;
  private coordinatorTooOld = false;

  constructor(
    private readonly fleet: FleetApi,
    private readonly announcer: Announcer,
    private readonly tasks: BackgroundTasks,
    private readonly logger: Logger,
    intervalMs = feedIntervalMs,
  ) {
    this.task = new PeriodicTask('announcing the coordinator feed', intervalMs, () => this.runOnce(), logger);
  }

  start(): void {
    this.task.start();
  }

  stop(): Promise<void> {
    return this.task.stop();
  }

  async runOnce(): Promise<void> {
    if (this.coordinatorTooOld) return;
    try {
      await this.announceChanges();
    } catch (err) {
      if (!isFleetcastError(err, 'NOT_FOUND')) throw err;
      // A coordinator from before the feed: say it once, not every round.
      this.coordinatorTooOld = true;
      this.logger.warn({ err }, 'the coordinator has no announcement feed (GET /v1/announcements): only what is done through the bot is announced; upgrade the coordinator');
      return;
    }
    await this.announceFailedBuilds();
  }

  private async announceChanges(): Promise<void> {
    for (;;) {
      const page = await this.fleet.client.get<AnnouncementPageJson>(`/v1/announcements${this.cursor === null ? '' : `?after=${this.cursor}&limit=${pageSize}`}`);
      const first = this.cursor === null;
      this.cursor = page.next;
      if (first) return;
      for (const entry of page.entries) await this.announce(entry);
      if (page.entries.length < pageSize) return;
    }
  }

  private async announce(entry: AuditEntryJson): Promise<void> {
    // Done through the bot for someone in Slack: announced where it was asked, and at its end.
    if (entry.detail.via !== undefined) return;
    const message = feedMessage(entry);
    if (!message) return;
    await this.announcer.announce(entry.target, message);
    const deployment = entry.detail.deployment;
    if (entry.result === 'ok' && (entry.action === 'deploy' || entry.action === 'rollback') && typeof deployment === 'string') this.followToEnd(entry.target, deployment);
  }

  /** Announces how the deployment ended (converged, or which wave halted it and why). */
  private followToEnd(service: string, deployment: string): void {
    this.tasks.run(`announce the end of ${deployment}`, async (signal) => {
      try {
        const end = await this.fleet.followDeployment(deployment, () => undefined, signal);
        if (end?.final) await this.announcer.announce(service, deploymentEndMessage(end));
      } catch (err) {
        if (!isFleetcastError(err, 'CANCELLED')) this.logger.warn({ err, deployment }, 'lost track of a deployment to announce');
      }
    });
  }

  private async announceFailedBuilds(): Promise<void> {
    const page = await this.fleet.client.get<BuildPageJson & { builds: BuildInfo[] }>(`/v1/builds?status=FAILED&limit=${failedBuildsPage}`);
    for (const build of page.builds) {
      if (this.seenFailures.has(build.id)) continue;
      this.seenFailures.add(build.id);
      // Before the first round: old news. Queued from Slack: the BuildWatcher tells its channel.
      if (!this.failuresPrimed || build.requestedBy?.startsWith('slack:')) continue;
      await this.announcer.announce(build.service, buildFailedMessage(build));
    }
    this.failuresPrimed = true;
    // Only the ids still on the page can come back: forget the others.
    const onPage = new Set(page.builds.map((b) => b.id));
    for (const id of this.seenFailures) if (!onPage.has(id)) this.seenFailures.delete(id);
  }
}
