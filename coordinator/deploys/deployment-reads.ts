import type { Database } from '../../entities/index.ts';
import { FleetcastError } from '../../errors/index.ts';
import type { Goal, GoalTarget } from '../../goalstate/index.ts';
import type { ServiceRegistry } from '../../queue/services/index.ts';
import { toConvergence, unknownConvergence, type RegionConvergence } from './convergence.ts';
import { formatDeploymentId, isFinal, parseDeploymentId, pendingRollback, toDeployment, type Deployment, type ServiceLock } from './deployment.ts';
import { readGoal, targetOf, type FleetState } from './goal-store.ts';
import type { MirrorState } from './mirror-state.ts';
import type { ServiceLocks } from './service-locks.ts';
import * as sql from './sql/deploy-sql.ts';
import { deploymentTarget, previewWaves } from './waves.ts';

export interface DeploymentReadsOptions {
  /** FLEETCAST_REGIONS. */
  regions: readonly string[];
  fleet: FleetState;
  mirrors?: ((region: string) => MirrorState | null) | undefined;
  /** FLEETCAST_DEPLOY_WAVES, checked already. */
  wavePlan: string;
}

/** A deployment and, per region, where the machines stand against its build. */
export interface DeploymentProgress {
  deployment: Deployment;
  progress: RegionConvergence[];
  /** Nothing more will happen: converged, failed or aborted (and rolled back), or another deployment took over. */
  final: boolean;
}

export interface RegionGoal {
  region: string;
  goal: Goal | null;
  revision: number | null;
  /**
   * The key holds a malformed value (GOAL_INVALID) or one not signed by a trusted key
   * (GOAL_SIGNATURE_INVALID): goal is null, agents keep their last goal, the next deploy
   * overwrites it.
   */
  goalError: { code: string; message: string } | null;
  /** Where the service's machines stand against this region's signed goal (build, digest and sequence). */
  convergence: RegionConvergence;
  /** The region's goal mirror as the coordinator last checked it; null when it has not yet. */
  mirror: MirrorState | null;
}

export interface ServiceStatus {
  service: string;
  lock: ServiceLock | null;
  regions: RegionGoal[];
  /** The newest deployment of the service. */
  deployment: Deployment | null;
  /** The waves a deploy to every region would roll out in (FLEETCAST_DEPLOY_WAVES): what a preview shows before anyone deploys. */
  deployWaves: string[][];
}

/** What reads deployments and a service's state; changes nothing. */
export class DeploymentReads {
  constructor(
    private readonly db: Database,
    private readonly services: Pick<ServiceRegistry, 'get'>,
    private readonly locks: ServiceLocks,
    private readonly options: DeploymentReadsOptions,
  ) {}

  /** The goal of each region, read from the hub, where the machines stand against it, the lock and the newest deployment. */
  async status(service: string): Promise<ServiceStatus> {
    const own = (await this.services.get(service)).wavePlan;
    const goals = this.options.fleet.goals();
    const regions = await Promise.all(
      this.options.regions.map(async (region): Promise<RegionGoal> => {
        const { current, revision, invalid } = await readGoal(goals, service, region);
        const goal = current?.goal ?? null;
        const goalError = invalid ? { code: invalid.code, message: invalid.message } : null;
        // Judged against the goal on the hub, verified: what the coordinator signed, not what a mirror holds.
        return { region, goal, revision, goalError, convergence: this.convergence(region, service, targetOf(goal)), mirror: this.options.mirrors?.(region) ?? null };
      }),
    );
    const [newest] = await sql.selectDeployments(this.db, service, 1);
    const deployWaves = previewWaves(this.options.wavePlan, this.options.regions, own ? { service, plan: own } : null);
    return { service, lock: await this.locks.get(service), regions, deployment: newest ? toDeployment(newest) : null, deployWaves };
  }

  async list(request: { service?: string | undefined; limit: number }): Promise<Deployment[]> {
    return (await sql.selectDeployments(this.db, request.service, request.limit)).map(toDeployment);
  }

  async get(ref: string): Promise<Deployment> {
    const row = await sql.selectDeployment(this.db, parseDeploymentId(ref));
    if (!row) throw new FleetcastError('NOT_FOUND', `no deployment ${formatDeploymentId(parseDeploymentId(ref))}; fleetcast status SERVICE lists the newest`, { deployment: ref });
    return toDeployment(row);
  }

  /** The deployment and its regions' convergence against its build, as `deploy --wait` and the bot follow it. */
  async progress(ref: string): Promise<DeploymentProgress> {
    const deployment = await this.get(ref);
    const progress = deployment.regions.map((region) => this.convergence(region, deployment.service, deploymentTarget(deployment.build, deployment.waves, region)));
    const [newest] = await sql.selectDeployments(this.db, deployment.service, 1);
    const superseded = newest !== undefined && formatDeploymentId(String(newest.id)) !== deployment.id;
    // A newer deployment of the service owns the goal now — unless it is this one's own rollback, not yet recorded on it.
    return { deployment, progress, final: isFinal(deployment) || (superseded && deployment.rollback !== pendingRollback) };
  }

  /** Where the service's machines in `region` stand against `target`, from the agents' reports. */
  convergence(region: string, service: string, target: GoalTarget | null): RegionConvergence {
    const summary = this.options.fleet.summary(region, service, target);
    return summary ? toConvergence(summary) : unknownConvergence(region, service, target);
  }
}
