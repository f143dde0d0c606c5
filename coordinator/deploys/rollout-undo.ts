import type { DeployOutcome, RollbackRequest } from './deploy-request.ts';
import { systemActor } from './deploy-request.ts';
import type { Deployment } from './deployment.ts';
import type { GoalStore } from './goal-store.ts';
import type { UndoOutcome } from './wave-runner.ts';

/**
 * Puts the regions a failed or aborted deployment wrote back on the goal each ran before it
 * (read from the goal history, so it works while SQL is down — the rollback then goes the
 * SQL-free way), as rollbacks by `by` that lock the service with `reason`. A region
 * whose goal is no longer the deployment's is left alone; one already rolled back for it (a
 * coordinator died before recording that) counts as done.
 */
export async function undoDeployment(
  goals: GoalStore,
  rollback: (service: string, request: RollbackRequest) => Promise<DeployOutcome>,
  deployment: Deployment,
  regions: string[],
  by: string,
  reason: string,
): Promise<UndoOutcome> {
  const undoneBefore = new RegExp(`rollback of ${deployment.id}\\b`);
  const targets = new Map<string, string[]>();
  const done: string[] = [];
  const notes: string[] = [];
  let first: string | null = null;
  for (const region of regions) {
    const history = await goals.history(deployment.service, region);
    const current = history[0]?.goal;
    if (current && current.deployment !== deployment.id) {
      if (current.kind === 'rollback' && undoneBefore.test(current.reason)) {
        first ??= current.deployment;
        done.push(`${region} back on ${current.build} (${current.deployment})`);
      } else {
        notes.push(`${region} left alone (its goal is now ${current.deployment}'s)`);
      }
      continue;
    }
    const before = history.find((entry) => entry.goal.deployment !== deployment.id)?.goal;
    if (!before || before.build === deployment.build) {
      notes.push(`${region} has no earlier build to go back to`);
      continue;
    }
    targets.set(before.build, [...(targets.get(before.build) ?? []), region]);
  }
  for (const [build, group] of targets) {
    const undone = await rollback(deployment.service, { to: build, regions: group, by, reason, lockReason: reason });
    first ??= undone.id;
    done.push(`${group.join(', ')} back on ${build} (${undone.id})`);
  }
  const how = by === systemActor ? 'rolled back automatically' : `rolled back by ${by}`;
  const summary = done.length > 0 ? `${how}: ${[...done, ...notes].join('; ')}; ${deployment.service} is locked` : `nothing rolled back: ${notes.join('; ') || 'no region was written'}`;
  return { rollback: first, summary };
}
