import type { Logger } from '../logging/index.ts';
import type { Announcer } from './announcements/announcer.ts';
import type { BuildWatcher } from './announcements/build-watcher.ts';
import type { FleetApi, Outcome } from './fleet/fleet-api.ts';
import type { DeploymentInfo } from './fleet/fleet-json.ts';
import type { SlackPermissions } from './permissions/index.ts';
import type { PlanBook } from './plans/plan-book.ts';
import type { BackgroundTasks } from './progress/background-tasks.ts';
import type { DeploymentWatcher } from './progress/deployment-watcher.ts';

/** What every handler works with; run() wires it once. */
export interface BotContext {
  fleet: FleetApi;
  permissions: SlackPermissions;
  /** The outcome of each preview's buttons (double clicks). */
  plans: PlanBook<Outcome<DeploymentInfo>>;
  deployments: DeploymentWatcher;
  builds: BuildWatcher;
  announcer: Announcer;
  /** Where the work after each ack runs (stop() waits for it). */
  tasks: BackgroundTasks;
  logger: Logger;
  now: () => number;
}
