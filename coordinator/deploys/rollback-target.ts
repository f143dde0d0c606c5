import type { Database } from '../../entities/index.ts';
import { FleetcastError } from '../../errors/index.ts';
import type { GoalRevision } from '../../goalstate/index.ts';
import { parseBuildId, type Build, type BuildQueue } from '../../queue/index.ts';
import { readGoal, type GoalStore } from './goal-store.ts';
import * as sql from './sql/deploy-sql.ts';

/** The build a rollback returns to: `to`, else that of the newest deployment that ran everywhere it went (selectPreviousBuild) of another build than the current goal's. */
export async function rollbackTarget(db: Database, queue: Pick<BuildQueue, 'get'>, goals: GoalStore, service: string, regions: string[], to: string | undefined): Promise<Build> {
  if (to !== undefined) {
    const named = await queue.get(parseBuildId(to));
    // Without this check the goal of the build's own service would be written, under another service's lock.
    if (named.service !== service) throw new FleetcastError('INVALID_INPUT', `${to} is a build of ${named.service}, not of ${service}; name one of ${service}'s builds (fleetcast builds ${service})`, { build: to, service: named.service });
    return named;
  }
  let current: GoalRevision | null = null;
  for (const region of regions) current ??= (await readGoal(goals, service, region)).current;
  const currentId = current ? parseBuildId(current.goal.build) : null;
  const previous = await sql.selectPreviousBuild(db, service, currentId);
  if (previous === null) {
    throw new FleetcastError(
      'NOT_FOUND',
      `no earlier deployed build of ${service} to roll back to${current ? ` (the goal is ${current.goal.build})` : ''}; name one with --to BUILD`,
      { service },
    );
  }
  return queue.get(previous);
}
