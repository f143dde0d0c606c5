import path from 'node:path';
import { artifactObjectName } from '../../blobstore/index.ts';
import { FleetcastError, isFleetcastError } from '../../errors/index.ts';
import { coreKey, type GoalContent, type GoalRevision } from '../../goalstate/index.ts';
import type { Logger } from '../../logging/index.ts';
import { formatBuildId, type Build } from '../../queue/index.ts';
import type { Service } from '../../queue/services/index.ts';
import type { DeploymentKind } from './deployment.ts';
import { readGoal, type GoalStore } from './goal-store.ts';
import type { SignedGoalRecord } from './waves.ts';

/** An audit row of goal writes (what was signed, where, with which sequence): DeployService writes it, spooled while SQL is down. */
export type GoalWriteAudit = (row: { at: Date; actor: string; action: string; target: string; result: 'ok'; detail: Record<string, unknown> }) => Promise<void>;

/** What the goals of one deployment are made of. */
export interface DeploymentGoals {
  deployment: string;
  build: Build;
  service: Pick<Service, 'artifactPath' | 'runCommand' | 'healthUrl'>;
  kind: DeploymentKind;
  by: string;
  reason: string;
}

/** The record of a signed goal as it was stored. */
export function signedRecord(stored: GoalRevision): SignedGoalRecord {
  return { seq: stored.goal.seq, digest: stored.goal.digest, key: stored.goal.sig.key };
}

/**
 * Writes the goals of one wave of a deployment, region by region, each signed (GoalWriter) and
 * written with compare-and-set on the revision just read. A region whose goal already belongs to
 * this deployment is left alone, so a wave interrupted half-way (coordinator killed, hub lost)
 * can simply be written again. A failure says which regions already have the new goal. Every
 * write is audited (`goal-write`: deployment, build, region, sequence, signing key).
 */
export class WaveWriter {
  constructor(
    private readonly clusterSecret: string,
    private readonly logger: Logger,
    private readonly audit: GoalWriteAudit,
  ) {}

  /**
   * Writes the wave; the signed goal of each of its regions (the ones written before included), to
   * judge the wave by. A region in `shares` gets a canary goal: only its machines in that share apply it.
   */
  async write(goals: GoalStore, what: DeploymentGoals, regions: string[], shares: Record<string, number> = {}): Promise<Record<string, SignedGoalRecord>> {
    const written: string[] = [];
    const signed: Record<string, SignedGoalRecord> = {};
    try {
      for (const region of regions) {
        // A malformed or unsigned value is overwritten (at its revision): that is how it gets repaired.
        const { current, revision } = await readGoal(goals, what.build.service, region);
        // Already this deployment's goal for this wave (the same share, or all of the region): written before a crash.
        if (current?.goal.deployment === what.deployment && (current.goal.canary?.share ?? null) === (shares[region] ?? null)) {
          signed[region] = signedRecord(current);
          continue;
        }
        const stored = await goals.put(this.goalFor(what, region, new Date(), shares[region]), { expectedRevision: revision });
        signed[region] = signedRecord(stored);
        written.push(region);
        await this.audited(what, region, stored, 'goal');
      }
    } catch (err) {
      const message = `${(err as Error).message}${written.length > 0 ? ` (the goal was already written in ${written.join(', ')})` : ' (no goal was written)'}`;
      if (isFleetcastError(err)) throw new FleetcastError(err.code, message, { ...err.details, deployment: what.deployment, writtenRegions: written }, { cause: err });
      throw err;
    }
    this.logger.info({ deployment: what.deployment, service: what.build.service, build: formatBuildId(what.build.id), regions, shares, kind: what.kind, by: what.by }, 'wave written');
    return signed;
  }

  /** The audit row of one signed document written (a failure to audit is logged: the goal is written either way). */
  private async audited(what: DeploymentGoals, region: string, stored: GoalRevision, purpose: 'goal' | 'prefetch'): Promise<void> {
    const { goal } = stored;
    await this.audit({
      at: new Date(),
      actor: what.by,
      action: purpose === 'goal' ? 'goal-write' : 'prefetch-write',
      target: what.build.service,
      result: 'ok',
      detail: { deployment: what.deployment, kind: what.kind, build: goal.build, digest: goal.digest, region, seq: goal.seq, revision: stored.revision, key: goal.sig.key, ...(goal.canary ? { share: goal.canary.share } : {}) },
    }).catch((err: unknown) => this.logger.error({ err, deployment: what.deployment, region }, 'could not audit a goal write'));
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
        const stored = await goals.putPrefetch(this.goalFor(what, region, new Date()));
        written.push(region);
        await this.audited(what, region, stored, 'prefetch');
      } catch (err) {
        this.logger.warn({ err, deployment: what.deployment, service: what.build.service, region }, `could not write the prefetch hint of ${what.deployment} in ${region}; its machines fetch the build when its wave comes`);
      }
    }
    this.logger.info({ deployment: what.deployment, service: what.build.service, build: formatBuildId(what.build.id), regions: written }, 'prefetch hints written');
  }

  /** The goal document of a deployment in one region: everything an agent needs to fetch, verify and run the build. */
  goalFor(what: DeploymentGoals, region: string, at: Date, share?: number): GoalContent {
    const { build } = what;
    // A build runs what it was built with (recorded from the service or its fleetcast.yml), so a
    // rollback runs the old build's own command; builds from before that was recorded run the service's.
    const runs = build.used ?? { artifact: what.service.artifactPath, runCommand: what.service.runCommand, healthUrl: what.service.healthUrl };
    return {
      service: build.service,
      region,
      build: formatBuildId(build.id),
      digest: build.digest!,
      size: build.size!,
      artifact: artifactObjectName(build.service, build.id, build.digest!),
      p2pKey: coreKey(this.clusterSecret, build.digest!),
      fileName: path.posix.basename(runs.artifact),
      runCommand: runs.runCommand,
      healthUrl: runs.healthUrl,
      deployment: what.deployment,
      kind: what.kind,
      by: what.by,
      at: at.toISOString(),
      reason: what.reason,
      ...(share === undefined ? {} : { canary: { share } }),
    };
  }
}
