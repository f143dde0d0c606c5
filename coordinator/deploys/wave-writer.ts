import path from 'node:path';
import { artifactObjectName } from '../../blobstore/index.ts';
import { FleetcastError, isFleetcastError } from '../../errors/index.ts';
import { coreKey, type Goal } from '../../goalstate/index.ts';
import type { Logger } from '../../logging/index.ts';
import { formatBuildId, type Build } from '../../queue/index.ts';
import type { Service } from '../../queue/services/index.ts';
import type { DeploymentKind } from './deployment.ts';
import { readGoal, type GoalStore } from './goal-store.ts';

/** What the goals of one deployment are made of. */
export interface DeploymentGoals {
  deployment: string;
  build: Build;
  service: Pick<Service, 'artifactPath' | 'runCommand' | 'healthUrl'>;
  kind: DeploymentKind;
  by: string;
  reason: string;
}

/**
 * Writes the goals of one wave of a deployment, region by region, each with compare-and-set on
 * the revision just read. A region whose goal already belongs to this deployment is left alone,
 * so a wave interrupted half-way (coordinator killed, hub lost) can simply be written again.
 * A failure says which regions already have the new goal.
 */
export class WaveWriter {
  constructor(
    private readonly clusterSecret: string,
    private readonly logger: Logger,
  ) {}

  async write(goals: GoalStore, what: DeploymentGoals, regions: string[]): Promise<void> {
    const written: string[] = [];
    try {
      for (const region of regions) {
        // A malformed value is overwritten (at its revision): that is how it gets repaired.
        const { current, revision } = await readGoal(goals, what.build.service, region);
        if (current?.goal.deployment === what.deployment) continue;
        await goals.put(this.goalFor(what, region, new Date()), { expectedRevision: revision });
        written.push(region);
      }
    } catch (err) {
      const message = `${(err as Error).message}${written.length > 0 ? ` (the goal was already written in ${written.join(', ')})` : ' (no goal was written)'}`;
      if (isFleetcastError(err)) throw new FleetcastError(err.code, message, { ...err.details, deployment: what.deployment, writtenRegions: written }, { cause: err });
      throw err;
    }
    this.logger.info({ deployment: what.deployment, service: what.build.service, build: formatBuildId(what.build.id), regions, kind: what.kind, by: what.by }, 'wave written');
  }

  /**
   * Writes a prefetch hint in each region of the later waves: the goal they will get, which their
   * agents fetch into their caches meanwhile. Best effort: a hint not written only means that
   * region fetches when its wave comes, so a failure is logged, not thrown.
   */
  async writePrefetch(goals: GoalStore, what: DeploymentGoals, regions: string[]): Promise<void> {
    const written: string[] = [];
    for (const region of regions) {
      try {
        await goals.putPrefetch(this.goalFor(what, region, new Date()));
        written.push(region);
      } catch (err) {
        this.logger.warn({ err, deployment: what.deployment, service: what.build.service, region }, `could not write the prefetch hint of ${what.deployment} in ${region}; its machines fetch the build when its wave comes`);
      }
    }
    this.logger.info({ deployment: what.deployment, service: what.build.service, build: formatBuildId(what.build.id), regions: written }, 'prefetch hints written');
  }

  /** The goal document of a deployment in one region: everything an agent needs to fetch, verify and run the build. */
  goalFor(what: DeploymentGoals, region: string, at: Date): Goal {
    const { build } = what;
    return {
      v: 1,
      service: build.service,
      region,
      build: formatBuildId(build.id),
      digest: build.digest!,
      size: build.size!,
      artifact: artifactObjectName(build.service, build.id, build.digest!),
      p2pKey: coreKey(this.clusterSecret, build.digest!),
      fileName: path.posix.basename(what.service.artifactPath),
      runCommand: what.service.runCommand,
      healthUrl: what.service.healthUrl,
      deployment: what.deployment,
      kind: what.kind,
      by: what.by,
      at: at.toISOString(),
      reason: what.reason,
    };
  }
}
