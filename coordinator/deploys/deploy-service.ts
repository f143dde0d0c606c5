import type { Database } from '../../entities/index.ts';
import { FleetcastError, isFleetcastError } from '../../errors/index.ts';
import type { Logger } from '../../logging/index.ts';
import { formatBuildId, parseBuildId, type BuildQueue } from '../../queue/index.ts';
import type { ReplicationStatusService } from '../replication/index.ts';
import type { ServiceRegistry } from '../../queue/services/index.ts';
import type { AuditSpool } from './audit-spool.ts';
import type { MirrorState } from './mirror-state.ts';
import type { CommitHistory } from './commit-history.ts';
import { checkDeployable, requestedRegions } from './deploy-checks.ts';
import { DeployPreviewer } from './deploy-preview.ts';
import { DeployAudit } from './deploy-audit.ts';
import { idempotencyKey, systemActor, type DeployOutcome, type DeployRequest, type RollbackRequest } from './deploy-request.ts';
import { formatDeploymentId, lockedError, parseDeploymentId, pendingRollback, toDeployment, type Deployment, type ServiceLock } from './deployment.ts';
import { DeploymentReads, type DeploymentProgress, type ServiceStatus } from './deployment-reads.ts';
import { DeploymentStarter } from './deployment-starter.ts';
import type { FleetState } from './goal-store.ts';
import { viaDetail, type Relay } from './relay.ts';
import type { DeployGuard } from './deploy-guard.ts';
import { rollbackFromGoalHistory } from './rollback-without-sql.ts';
import { rollbackTarget } from './rollback-target.ts';
import { controlChange, type ControlAction, type ControlRequest } from './rollout-control.ts';
import { undoDeployment } from './rollout-undo.ts';
import { ServiceLocks } from './service-locks.ts';
import { Leases, rolloutLease } from './leases.ts';
import { ServiceMutex } from './service-mutex.ts';
import * as sql from './sql/deploy-sql.ts';
import { WaveRunner, type WaveRunnerOptions } from './wave-runner.ts';
import { WaveWriter } from './wave-writer.ts';
import { encodeWaves, planRegions, planWaves } from './waves.ts';

export interface DeployServiceOptions {
  /** FLEETCAST_REGIONS. */
  regions: readonly string[];
  /** The goal state and the agents' reports (the coordinator's HubLink). */
  fleet: FleetState;
  /** Each region's goal mirror as last checked (the coordinator's MirrorCheck). @defaultValue unknown */
  mirrors?: (region: string) => MirrorState | null;
  /** Where records go while SQL is down. */
  spool: AuditSpool;
  /** FLEETCAST_SECRET: the P2P key of each build's core is derived from it (see goalstate/core-key.ts). */
  clusterSecret: string;
  /** FLEETCAST_DEPLOY_WAVES (see waves.ts). @defaultValue `canary` */
  wavePlan?: string;
  /** How waves are judged and paced (FLEETCAST_WAVE_*), and FLEETCAST_DEPLOY_AUTO_ROLLBACK. */
  waves?: Partial<Omit<WaveRunnerOptions, 'spool' | 'undo' | 'leases' | 'mutex'>>;
  /** The leases shared with the other coordinators on this database (rollouts, services). @defaultValue new Leases(db): 10 s, a new holder name */
  leases?: Leases;
  /**
   * FLEETCAST_DEPLOY_PREFETCH: with the first wave, the regions of the later waves get a prefetch
   * hint, and their agents fetch the build into their caches while the first wave rolls out.
   * @defaultValue true
   */
  prefetch?: boolean;
  /** The coordinator's mirror of the services' repositories, for the commits a preview lists. @defaultValue none: previews list no commits */
  commits?: CommitHistory | null;
  /** Freeze windows and pre-deploy checks (coordinator/delivery/); never asked for rollbacks. @defaultValue none */
  guard?: DeployGuard;
  logger: Logger;
}

/**
 * Deploys, rollbacks and rollout control, over the pieces that do the rest: a deploy checks the
 * build and the lock, then the DeploymentStarter records it and writes the first wave, and the
 * WaveRunner writes each next wave once the previous one has converged. A rollback writes every
 * region at once and locks the service. Locks are ServiceLocks', reads DeploymentReads'; every
 * state-changing call leaves an audit row (DeployAudit, spooled while SQL is down).
 */
export class DeployService {
  private readonly mutex: ServiceMutex;
  /** Shared with the other coordinators: who steps each rollout, who writes each service's goals. */
  readonly leases: Leases;
  private readonly regions: readonly string[];
  private readonly writer: WaveWriter;
  private readonly auditLog: DeployAudit;
  private readonly starter: DeploymentStarter;
  readonly runner: WaveRunner;
  readonly locks: ServiceLocks;
  readonly reads: DeploymentReads;
  /** Dry runs of deploy and rollback (--dry-run), judged by the same rules; they change nothing. */
  readonly previews: DeployPreviewer;
  /** Rollbacks done while SQL was down, by idempotency key: a retry must not roll back twice. */
  private readonly spooledByKey = new Map<string, Deployment>();

  constructor(
    private readonly db: Database,
    private readonly queue: Pick<BuildQueue, 'get'>,
    private readonly services: Pick<ServiceRegistry, 'get'>,
    private readonly replication: Pick<ReplicationStatusService, 'forBuild'>,
    private readonly options: DeployServiceOptions,
  ) {
    this.regions = options.regions;
    this.leases = options.leases ?? new Leases(db);
    this.mutex = new ServiceMutex(this.leases);
    // Checked now: a bad FLEETCAST_DEPLOY_WAVES stops the coordinator at start.
    planWaves({ setting: this.wavePlan, configured: this.regions });
    this.auditLog = new DeployAudit(db, options.spool);
    this.locks = new ServiceLocks(db, services, this.auditLog);
    this.reads = new DeploymentReads(db, services, this.locks, { regions: this.regions, fleet: options.fleet, mirrors: options.mirrors, wavePlan: this.wavePlan });
    this.previews = new DeployPreviewer(db, queue, services, replication, this.locks, { regions: this.regions, fleet: options.fleet, wavePlan: this.wavePlan, commits: options.commits ?? null });
    this.writer = new WaveWriter(options.clusterSecret, options.logger, (row) => this.auditLog.write(row));
    this.runner = new WaveRunner(db, {
      queue,
      services,
      fleet: options.fleet,
      mutex: this.mutex,
      leases: this.leases,
      writer: this.writer,
      spool: options.spool,
      undo: (deployment, regions, by, reason) => undoDeployment(options.fleet.goals(), (service, request) => this.rollback(service, request), deployment, regions, by ?? systemActor, reason),
      logger: options.logger,
      ...options.waves,
    });
    this.starter = new DeploymentStarter(db, { services, runner: this.runner, writer: this.writer, spool: options.spool, prefetch: options.prefetch !== false, logger: options.logger });
  }

  private get wavePlan(): string {
    return this.options.wavePlan ?? 'canary';
  }

  async deploy(buildRef: string, request: DeployRequest): Promise<DeployOutcome> {
    const detail: Record<string, unknown> = { build: buildRef, regions: request.regions ?? null, reason: request.reason ?? '', ...viaDetail(request.via) };
    let target = buildRef;
    return this.auditLog.run('deploy', () => target, request.by, detail, async () => {
      const replay = await this.starter.replay(request, 'deploy');
      if (replay) return replay;
      const build = await this.queue.get(parseBuildId(buildRef));
      target = build.service;
      detail.build = formatBuildId(build.id);
      const own = (await this.services.get(build.service)).wavePlan;
      const plan = planWaves({ setting: this.wavePlan, configured: this.regions, requested: request.regions, explicit: request.waves, servicePlan: own ? { service: build.service, plan: own } : null });
      detail.waves = plan;
      checkDeployable(build, await this.replication.forBuild(build), planRegions(plan));
      if (request.overrideFreeze !== undefined) detail.overrideFreeze = request.overrideFreeze;
      const passed = await this.options.guard?.admit(build, request);
      if (passed) Object.assign(detail, passed.detail);
      const goals = this.options.fleet.goals();
      // A deploy racing one through another coordinator is refused at once (CONFLICT): exactly one starts.
      return this.mutex.run(build.service, async () => {
        const lock = await this.locks.get(build.service);
        if (lock) throw lockedError(lock);
        const deployment = await this.starter.start(goals, build, plan, 'deploy', request);
        detail.deployment = deployment.id;
        await passed?.started(deployment.id);
        return deployment;
      }, 0);
    });
  }

  /**
   * Back to the build deployed before the current one (or `to`), in every region or those
   * named, at once (no waves: an incident does not wait for canaries), then locks the service.
   * Works without SQL: see rollback-without-sql.ts.
   */
  async rollback(service: string, request: RollbackRequest): Promise<DeployOutcome> {
    const by = request.by;
    const reason = request.reason ?? `rolled back by ${by}`;
    const detail: Record<string, unknown> = { to: request.to ?? null, regions: request.regions ?? null, reason, ...viaDetail(request.via) };
    const goals = this.options.fleet.goals();
    const regions = requestedRegions(request.regions, this.regions);
    const key = request.idempotencyKey === undefined ? undefined : idempotencyKey(by, request.idempotencyKey);
    return this.mutex.run(service, async () => {
      try {
        return await this.auditLog.run('rollback', () => service, by, detail, async () => {
          const replay = await this.starter.replay(request, 'rollback', service);
          if (replay) return replay;
          await this.services.get(service);
          const build = await rollbackTarget(this.db, this.queue, goals, service, regions, request.to);
          checkDeployable(build, await this.replication.forBuild(build), regions);
          detail.build = formatBuildId(build.id);
          const deployment = await this.starter.start(goals, build, [regions], 'rollback', { ...request, reason });
          detail.deployment = deployment.id;
          return deployment;
        });
      } catch (err) {
        if (!isFleetcastError(err, 'DATABASE_UNAVAILABLE')) throw err;
        const earlier = key === undefined ? undefined : this.spooledByKey.get(key);
        if (earlier) return { ...earlier, replayed: true };
        this.options.logger.warn({ service, err }, 'database unavailable: rolling back from the goal history');
        const deployment = await rollbackFromGoalHistory(goals, this.options.spool, { service, regions, to: request.to, by, via: request.via, reason, lockReason: request.lockReason });
        if (key !== undefined) this.spooledByKey.set(key, deployment);
        return deployment;
      }
      // An incident does not give up at once: a dead coordinator's lease of the service runs out within the lease time.
    }, this.leases.ttlMs + 1_000);
  }

  /**
   * Pauses, resumes, promotes or aborts a rollout in progress (see rollout-control.ts), under the
   * service's mutex, audited. Idempotent: an action already in effect gives the deployment back
   * with `replayed: true`. An abort then rolls the regions already written back to the build
   * they ran before, as a rollback by the person, and locks the service.
   */
  async control(action: ControlAction, ref: string, request: ControlRequest & { via?: Relay | undefined }): Promise<DeployOutcome> {
    const id = parseDeploymentId(ref);
    const detail: Record<string, unknown> = { deployment: formatDeploymentId(id), reason: request.reason ?? '', ...(request.wave === undefined ? {} : { wave: request.wave }), ...viaDetail(request.via) };
    let target = formatDeploymentId(id);
    return this.auditLog.run(action, () => target, request.by, detail, async () => {
      const service = (await this.get(ref)).service;
      target = service;
      const done = await this.mutex.run(service, async () => {
        const row = (await sql.selectDeployment(this.db, id))!;
        const deployment = toDeployment(row);
        const change = controlChange(deployment, action, request, new Date());
        if (!change) return { deployment, change };
        const { status, waves, error, undo } = change;
        // The rollback is this request's: claimed here before SQL says so, the runner's loop leaves it alone.
        if (undo) {
          // Whichever coordinator steps the rollout, the rollback is this one's: its loop must not do it too.
          await this.leases.takeOver(rolloutLease(deployment.id));
          this.runner.claimRollback(deployment.id);
        }
        const recorded = await sql
          .updateDeploymentProgress(this.db, id, { waves: row.waves === null ? null : String(row.waves), status: deployment.status }, {
            status,
            waves: encodeWaves(waves),
            error,
            convergedAt: null,
            ...(undo ? { rollback: pendingRollback } : {}),
          })
          .catch((err: unknown) => {
            this.runner.releaseRollback(deployment.id);
            throw err;
          });
        if (!recorded) {
          this.runner.releaseRollback(deployment.id);
          throw new FleetcastError('CONFLICT', `${deployment.id} moved on while it was being ${action === 'abort' ? 'aborted' : `${action}d`} (a wave was judged or written); look at it again and retry`, { deployment: deployment.id });
        }
        this.options.logger.info({ deployment: deployment.id, service, by: request.by, action }, `rollout ${action}`);
        return { deployment: { ...deployment, status, waves, error }, change };
      }, 3_000);
      if (!done.change) return { ...done.deployment, replayed: true };
      if (done.change.undo) {
        const reason = `rollback of ${done.deployment.id}, aborted by ${request.by}${request.reason ? `: ${request.reason}` : ''}`;
        await this.runner.rollBack(done.deployment, done.change.error!, request.by, reason);
      }
      return this.get(ref);
    });
  }

  // Locks and reads live in ServiceLocks and DeploymentReads; these keep the callers' one handle.
  lock(service: string, request: { by: string; via?: Relay | undefined; reason: string }): Promise<ServiceLock> {
    return this.locks.lock(service, request);
  }

  unlock(service: string, request: { by: string; via?: Relay | undefined }): Promise<ServiceLock> {
    return this.locks.unlock(service, request);
  }

  getLock(service: string): Promise<ServiceLock | null> {
    return this.locks.get(service);
  }

  status(service: string): Promise<ServiceStatus> {
    return this.reads.status(service);
  }

  list(request: { service?: string | undefined; limit: number }): Promise<Deployment[]> {
    return this.reads.list(request);
  }

  get(ref: string): Promise<Deployment> {
    return this.reads.get(ref);
  }

  progress(ref: string): Promise<DeploymentProgress> {
    return this.reads.progress(ref);
  }

  /** An audit row of something the coordinator did by itself (a mirror repaired); spooled while SQL is down. */
  record(row: sql.AuditInsert): Promise<void> {
    return this.auditLog.write(row);
  }
}
