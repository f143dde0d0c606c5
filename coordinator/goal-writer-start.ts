import { GoalWriter } from '../goalstate/index.ts';
import type { Logger } from '../logging/index.ts';
import type { CoordinatorConfig } from './config.ts';

/**
 * Connects the coordinator's goal writer to the hub and makes sure the buckets exist. A hub
 * that does not answer (or is not a hub) must not stop builds and replication: the failure is
 * logged and null returned, and deploys answer NATS_UNAVAILABLE until the coordinator is
 * restarted with the hub up. A hub that answers but misses a region's leaf still deploys: the
 * writer is kept and the missing regions are logged.
 */
export async function connectGoalWriter(config: CoordinatorConfig, logger: Logger): Promise<GoalWriter | null> {
  let writer: GoalWriter;
  try {
    writer = await GoalWriter.connect({
      url: config.FLEETCAST_NATS_URL,
      regions: config.FLEETCAST_REGIONS,
      goalHistory: config.FLEETCAST_GOAL_HISTORY,
      connect: { timeoutMs: 3_000 },
      logger,
    });
  } catch (err) {
    logger.error({ err }, 'deploys are off: the NATS hub is unreachable; builds and replication go on — start the hub and restart the coordinator');
    return null;
  }
  try {
    await writer.ensureBuckets();
  } catch (err) {
    logger.error({ err }, 'goal-state buckets are not all set up; deploys to the regions named may fail until their leaves answer');
  }
  return writer;
}
