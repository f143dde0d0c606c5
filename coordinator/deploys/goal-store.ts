import type { GoalWriter, ServiceStatusSummary } from '../../goalstate/index.ts';

/** What deploys need of the goal state: the coordinator's GoalWriter, or a stand-in in tests. */
export type GoalStore = Pick<GoalWriter, 'get' | 'put' | 'history'>;

/**
 * The fleet as deploys see it: the goal state (NATS_UNAVAILABLE while the hub is out of reach)
 * and, per region, where a service's machines stand (null while that region's reports cannot
 * be read). The coordinator's HubLink, or a stand-in in tests.
 */
export interface FleetState {
  goals(): GoalStore;
  summary(region: string, service: string, goalBuild: string | null): ServiceStatusSummary | null;
}
