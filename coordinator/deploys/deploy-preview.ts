import type { Database } from '../../entities/index.ts';
import { isFleetcastError, type FleetcastError } from '../../errors/index.ts';
import { noSigningKey } from '../../goalstate/index.ts';
import { formatBuildId, parseBuildId, type Build, type BuildQueue } from '../../queue/index.ts';
import type { ServiceRegistry } from '../../queue/services/index.ts';
import type { BuildReplication, ReplicationStatusService } from '../replication/index.ts';
import type { CommitHistory, Commit } from './commit-history.ts';
import { checkDeployable, requestedRegions } from './deploy-checks.ts';
import { lockedError, type DeploymentKind, type ServiceLock } from './deployment.ts';
import { readGoal, type FleetState, type GoalStore } from './goal-store.ts';
import { rollbackTarget } from './rollback-target.ts';
import type { ServiceLocks } from './service-locks.ts';
import { planRegions, planWaves } from './waves.ts';

export interface DeployPreviewOptions {
  /** FLEETCAST_REGIONS. */
  regions: readonly string[];
  fleet: FleetState;
  /** FLEETCAST_DEPLOY_WAVES, checked already. */
  wavePlan: string;
  /** The coordinator's mirror of the services' repositories; null: previews list no commits. */
  commits: CommitHistory | null;
}

/** One region as a deploy or rollback would find it. */
export interface RegionPreview {
  region: string;
  /** The region's goal now (null: nothing deployed there yet, or a goal that does not verify). */
  current: { build: string; deployment: string } | null;
  /** Machines reporting on the service (silent ones included). */
  machines: number;
  silent: number;
  /** Machines reporting in time that already run the target build. */
  running: number;
  /** Machines reporting in time with the target build verified in their cache, not running it: they switch without a transfer. */
  holding: number;
  /** false while the region's reports cannot be read: the counts are 0, not known. */
  known: boolean;
}

/** The commits a group of regions on the same build would gain or lose. */
export interface CommitChange {
  /** The build those regions' goal is now; null: nothing deployed there yet. */
  from: string | null;
  fromCommit: string | null;
  regions: string[];
  shipped: Commit[];
  removed: Commit[];
  truncated: boolean;
  /** Why the commits could not be listed (the repository unreachable…); the preview holds otherwise. */
  error: string | null;
}

/** What a deploy or rollback would do, and whether it would be refused: nothing is changed to find out. */
export interface DeployPreview {
  kind: DeploymentKind;
  service: string;
  build: Build;
  /** The build's copies per region (what NOT_DEPLOYABLE is judged on). */
  replication: BuildReplication;
  /** The waves it would roll out in (a rollback: one, every region at once). */
  waves: string[][];
  regions: RegionPreview[];
  changes: CommitChange[];
  lock: ServiceLock | null;
  /** Every rule the request breaks, in the order a real request checks them: the first is what it would be refused with. */
  refusals: FleetcastError[];
}

/**
 * Dry runs of deploys and rollbacks, judged by the same rules (checkDeployable, the lock, the
 * signing key) in the same order as DeployService, so a preview and the request agree. A bad
 * request (unknown build or region, nothing to roll back to) is thrown as the request would be;
 * a refusal by a rule is listed, with everything else the preview can tell.
 */
export class DeployPreviewer {
  constructor(
    private readonly db: Database,
    private readonly queue: Pick<BuildQueue, 'get'>,
    private readonly services: Pick<ServiceRegistry, 'get'>,
    private readonly replication: Pick<ReplicationStatusService, 'forBuild'>,
    private readonly locks: ServiceLocks,
    private readonly options: DeployPreviewOptions,
  ) {}

  async deploy(buildRef: string, request: { regions?: string[] | undefined; waves?: string[][] | undefined }): Promise<DeployPreview> {
    const build = await this.queue.get(parseBuildId(buildRef));
    const own = (await this.services.get(build.service)).wavePlan;
    const plan = planWaves({ setting: this.options.wavePlan, configured: this.options.regions, requested: request.regions, explicit: request.waves, servicePlan: own ? { service: build.service, plan: own } : null });
    const refusals: FleetcastError[] = [];
    const replication = await this.replication.forBuild(build);
    this.collect(refusals, () => checkDeployable(build, replication, planRegions(plan)));
    const goals = this.options.fleet.goals();
    const lock = await this.locks.get(build.service);
    if (lock) refusals.push(lockedError(lock));
    if (!goals.signs) refusals.push(noSigningKey(`the goals of ${build.service} ${formatBuildId(build.id)}`));
    return this.describe(goals, 'deploy', build, replication, plan, lock, refusals);
  }

  /** A rollback is not refused by the lock (it replaces it); the lock is shown. */
  async rollback(service: string, request: { to?: string | undefined; regions?: string[] | undefined }): Promise<DeployPreview> {
    const goals = this.options.fleet.goals();
    const regions = requestedRegions(request.regions, this.options.regions);
    await this.services.get(service);
    const build = await rollbackTarget(this.db, this.queue, goals, service, regions, request.to);
    const refusals: FleetcastError[] = [];
    const replication = await this.replication.forBuild(build);
    this.collect(refusals, () => checkDeployable(build, replication, regions));
    if (!goals.signs) refusals.push(noSigningKey(`the goals of ${build.service} ${formatBuildId(build.id)}`));
    return this.describe(goals, 'rollback', build, replication, [regions], await this.locks.get(service), refusals);
  }

  private collect(refusals: FleetcastError[], check: () => void): void {
    try {
      check();
    } catch (err) {
      if (!isFleetcastError(err, 'NOT_DEPLOYABLE')) throw err;
      refusals.push(err);
    }
  }

  private async describe(goals: GoalStore, kind: DeploymentKind, build: Build, replication: BuildReplication, plan: string[][], lock: ServiceLock | null, refusals: FleetcastError[]): Promise<DeployPreview> {
    const target = formatBuildId(build.id);
    const regions = await Promise.all(planRegions(plan).map((region) => this.region(goals, build.service, region, target)));
    const groups = new Map<string | null, string[]>();
    for (const region of regions) {
      const from = region.current?.build ?? null;
      groups.set(from, [...(groups.get(from) ?? []), region.region]);
    }
    const service = await this.services.get(build.service);
    const changes = await Promise.all([...groups].map(([from, group]) => this.change(service.repo, build, from, group)));
    return { kind, service: build.service, build, replication, waves: plan, regions, changes, lock, refusals };
  }

  private async region(goals: GoalStore, service: string, region: string, target: string): Promise<RegionPreview> {
    const { current } = await readGoal(goals, service, region);
    const summary = this.options.fleet.summary(region, service, { build: target, digest: null, seq: null });
    return {
      region,
      current: current ? { build: current.goal.build, deployment: current.goal.deployment } : null,
      machines: summary?.machines ?? 0,
      silent: summary?.silent ?? 0,
      running: summary?.runningBuilds[target] ?? 0,
      holding: summary?.holding ?? 0,
      known: summary !== null,
    };
  }

  private async change(repo: string, build: Build, from: string | null, regions: string[]): Promise<CommitChange> {
    const base = { from, fromCommit: null as string | null, regions };
    try {
      base.fromCommit = from === null ? null : (await this.queue.get(parseBuildId(from))).commit;
    } catch (err) {
      if (!isFleetcastError(err, 'NOT_FOUND')) throw err;
      return { ...base, shipped: [], removed: [], truncated: false, error: `${from} is no longer recorded: its commit is not known` };
    }
    const fromCommit = base.fromCommit;
    if (from === formatBuildId(build.id) || fromCommit === build.commit) return { ...base, shipped: [], removed: [], truncated: false, error: null };
    if (!this.options.commits) return { ...base, shipped: [], removed: [], truncated: false, error: 'this coordinator keeps no commit mirror' };
    try {
      return { ...base, ...(await this.options.commits.between(build.service, repo, fromCommit, build.commit)), error: null };
    } catch (err) {
      return { ...base, shipped: [], removed: [], truncated: false, error: (err as Error).message };
    }
  }
}
