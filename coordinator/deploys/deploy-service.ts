import { createHash } from 'node:crypto';
import { isUniqueViolation, type Database } from '../../entities/index.ts';
import { FleetcastError, isFleetcastError, type ErrorCode } from '../../errors/index.ts';
import { noSigningKey, type Goal, type GoalRevision, type GoalTarget } from '../../goalstate/index.ts';
import type { Logger } from '../../logging/index.ts';
import { formatBuildId, parseBuildId, type Build, type BuildQueue } from '../../queue/index.ts';
import type { ReplicationStatusService } from '../replication/index.ts';
import type { ServiceRegistry } from '../../queue/services/index.ts';
import type { AuditSpool } from './audit-spool.ts';
import type { MirrorState } from './mirror-state.ts';
import { toConvergence, unknownConvergence, type RegionConvergence } from './convergence.ts';
import { checkDeployable, requestedRegions } from './deploy-checks.ts';
import { formatDeploymentId, isFinal, lockedError, parseDeploymentId, pendingRollback, toDeployment, toLock, type Deployment, type DeploymentKind, type ServiceLock } from './deployment.ts';
import { readGoal, targetOf, type FleetState, type GoalStore } from './goal-store.ts';
import { rollbackFromGoalHistory } from './rollback-without-sql.ts';
import { controlChange, type ControlAction, type ControlRequest } from './rollout-control.ts';
import { ServiceMutex } from './service-mutex.ts';
import * as sql from './sql/deploy-sql.ts';
import { WaveRunner, type UndoOutcome, type WaveRunnerOptions } from './wave-runner.ts';
import { WaveWriter } from './wave-writer.ts';
import { deploymentTarget, encodeWaves, newWaves, planRegions, planWaves, previewWaves, type Wave } from './waves.ts';

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
  waves?: Partial<Omit<WaveRunnerOptions, 'spool' | 'undo'>>;
  /**
   * FLEETCAST_DEPLOY_PREFETCH: with the first wave, the regions of the later waves get a prefetch
   * hint, and their agents fetch the build into their caches while the first wave rolls out.
   * @defaultValue true
   */
  prefetch?: boolean;
  logger: Logger;
}

/** A relay (the Slack bot) that asked for `by`: its token, and the person's stable id. Kept in the audit row. */
export interface Relay {
  token: string;
  id: string;
}

export interface DeployRequest {
  regions?: string[] | undefined;
  /** Explicit waves, e.g. [['eu'], ['us', 'ap']]; overrides the default plan. */
  waves?: string[][] | undefined;
  by: string;
  /** Set when a relay acted for `by`. */
  via?: Relay | undefined;
  reason?: string | undefined;
  /** The client's Idempotency-Key: the same key (from the same caller) gives the same deployment back. */
  idempotencyKey?: string | undefined;
}

export interface RollbackRequest extends Omit<DeployRequest, 'waves'> {
  /** `b41`; @defaultValue the build deployed before the current one */
  to?: string | undefined;
  /** The reason the service is locked with (an automatic rollback names the failure). @defaultValue `rolled back by <by>` */
  lockReason?: string | undefined;
}

/** A deployment and, per region, where the machines stand against its build. */
export interface DeploymentProgress {
  deployment: Deployment;
  progress: RegionConvergence[];
  /** Nothing more will happen: converged, failed or aborted (and rolled back), or another deployment took over. */
  final: boolean;
}

/** What the request got: a new deployment, or (replayed: true) the one an earlier request with its key made. */
export type DeployOutcome = Deployment & { replayed?: boolean };

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

/** The actor of what the coordinator does by itself (automatic rollbacks). */
export const systemActor = 'fleetcast';

// Refusals by a rule or of a bad request are audited as `refused`; anything else as `error`.
const refusalCodes: ErrorCode[] = ['NOT_DEPLOYABLE', 'LOCKED', 'FORBIDDEN', 'NOT_FOUND', 'INVALID_INPUT', 'CONFLICT', 'GOAL_CONFLICT'];

/**
 * Deploys, rollbacks, locks and their audit. A deploy checks the build and the lock, records
 * the deployment with its waves, writes the first wave's goals (compare-and-set per region) and
 * leaves the rest to the WaveRunner, which writes each next wave once the previous one has
 * converged. A rollback writes every region at once and locks the service. Every
 * state-changing call leaves an audit row (spooled while SQL is down).
 */
export class DeployService {
  private readonly mutex = new ServiceMutex();
  private readonly regions: readonly string[];
  private readonly writer: WaveWriter;
  readonly runner: WaveRunner;
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
    // Checked now: a bad FLEETCAST_DEPLOY_WAVES stops the coordinator at start.
    planWaves({ setting: this.wavePlan, configured: this.regions });
    this.writer = new WaveWriter(options.clusterSecret, options.logger, (row) => this.audit(row));
    this.runner = new WaveRunner(db, {
      queue,
      services,
      fleet: options.fleet,
      mutex: this.mutex,
      writer: this.writer,
      spool: options.spool,
      undo: (deployment, regions, by, reason) => this.undo(deployment, regions, by ?? systemActor, reason),
      logger: options.logger,
      ...options.waves,
    });
  }

  private get wavePlan(): string {
    return this.options.wavePlan ?? 'canary';
  }

  async deploy(buildRef: string, request: DeployRequest): Promise<DeployOutcome> {
    const detail: Record<string, unknown> = { build: buildRef, regions: request.regions ?? null, reason: request.reason ?? '', ...viaDetail(request.via) };
    let target = buildRef;
    return this.audited('deploy', () => target, request.by, detail, async () => {
      const replay = await this.replay(request, 'deploy');
      if (replay) return replay;
      const build = await this.queue.get(parseBuildId(buildRef));
      target = build.service;
      detail.build = formatBuildId(build.id);
      const own = (await this.services.get(build.service)).wavePlan;
      const plan = planWaves({ setting: this.wavePlan, configured: this.regions, requested: request.regions, explicit: request.waves, servicePlan: own ? { service: build.service, plan: own } : null });
      detail.waves = plan;
      checkDeployable(build, await this.replication.forBuild(build), planRegions(plan));
      const goals = this.options.fleet.goals();
      return this.mutex.run(build.service, async () => {
        const lock = await this.getLock(build.service);
        if (lock) throw lockedError(lock);
        const deployment = await this.start(goals, build, plan, 'deploy', request);
        detail.deployment = deployment.id;
        return deployment;
      });
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
        return await this.audited('rollback', () => service, by, detail, async () => {
          const replay = await this.replay(request, 'rollback', service);
          if (replay) return replay;
          await this.services.get(service);
          const build = await this.rollbackTarget(goals, service, regions, request.to);
          checkDeployable(build, await this.replication.forBuild(build), regions);
          detail.build = formatBuildId(build.id);
          const deployment = await this.start(goals, build, [regions], 'rollback', { ...request, reason });
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
    });
  }

  /**
   * Puts the regions a failed or aborted deployment wrote back on the goal each ran before it
   * (read from the goal history, so it works while SQL is down — the rollback then goes the
   * SQL-free way), as rollbacks by `by` that lock the service with `reason`. A region
   * whose goal is no longer the deployment's is left alone; one already rolled back for it (a
   * coordinator died before recording that) counts as done.
   */
  private async undo(deployment: Deployment, regions: string[], by: string, reason: string): Promise<UndoOutcome> {
    const undoneBefore = new RegExp(`rollback of ${deployment.id}\\b`);
    const goals = this.options.fleet.goals();
    const targets = new Map<string, string[]>();
    const done: string[] = [];
    const notes: string[] = [];
    let rollback: string | null = null;
    for (const region of regions) {
      const history = await goals.history(deployment.service, region);
      const current = history[0]?.goal;
      if (current && current.deployment !== deployment.id) {
        if (current.kind === 'rollback' && undoneBefore.test(current.reason)) {
          rollback ??= current.deployment;
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
      const undone = await this.rollback(deployment.service, { to: build, regions: group, by, reason, lockReason: reason });
      rollback ??= undone.id;
      done.push(`${group.join(', ')} back on ${build} (${undone.id})`);
    }
    const how = by === systemActor ? 'rolled back automatically' : `rolled back by ${by}`;
    const summary = done.length > 0 ? `${how}: ${[...done, ...notes].join('; ')}; ${deployment.service} is locked` : `nothing rolled back: ${notes.join('; ') || 'no region was written'}`;
    return { rollback, summary };
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
    return this.audited(action, () => target, request.by, detail, async () => {
      const service = (await this.get(ref)).service;
      target = service;
      const done = await this.mutex.run(service, async () => {
        const row = (await sql.selectDeployment(this.db, id))!;
        const deployment = toDeployment(row);
        const change = controlChange(deployment, action, request, new Date());
        if (!change) return { deployment, change };
        const { status, waves, error, undo } = change;
        // The rollback is this request's: claimed here before SQL says so, the runner's loop leaves it alone.
        if (undo) this.runner.claimRollback(deployment.id);
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
      });
      if (!done.change) return { ...done.deployment, replayed: true };
      if (done.change.undo) {
        const reason = `rollback of ${done.deployment.id}, aborted by ${request.by}${request.reason ? `: ${request.reason}` : ''}`;
        await this.runner.rollBack(done.deployment, done.change.error!, request.by, reason);
      }
      return this.get(ref);
    });
  }

  async lock(service: string, request: { by: string; via?: Relay | undefined; reason: string }): Promise<ServiceLock> {
    return this.audited('lock', () => service, request.by, { reason: request.reason, ...viaDetail(request.via) }, async () => {
      await this.services.get(service);
      const since = new Date();
      if (!(await sql.insertLockIfAbsent(this.db, service, request.by, request.reason, since))) {
        const lock = await this.getLock(service);
        throw new FleetcastError(
          'CONFLICT',
          `service ${service} is already locked${lock ? ` by ${lock.lockedBy} since ${lock.since.toISOString()} (${lock.reason})` : ''}; unlock it first to change the reason`,
          { service },
        );
      }
      return { service, lockedBy: request.by, reason: request.reason, since };
    });
  }

  async unlock(service: string, request: { by: string; via?: Relay | undefined }): Promise<ServiceLock> {
    return this.audited('unlock', () => service, request.by, viaDetail(request.via), async () => {
      await this.services.get(service);
      const lock = await this.getLock(service);
      if (!lock || !(await sql.deleteLock(this.db, service))) {
        throw new FleetcastError('NOT_FOUND', `service ${service} is not locked; nothing to unlock (fleetcast status ${service} shows its lock)`, { service });
      }
      return lock;
    });
  }

  /** The goal of each region, read from the hub, where the machines stand against it, the lock and the newest deployment. */
  async status(service: string): Promise<ServiceStatus> {
    const own = (await this.services.get(service)).wavePlan;
    const goals = this.options.fleet.goals();
    const regions = await Promise.all(
      this.regions.map(async (region): Promise<RegionGoal> => {
        const { current, revision, invalid } = await readGoal(goals, service, region);
        const goal = current?.goal ?? null;
        const goalError = invalid ? { code: invalid.code, message: invalid.message } : null;
        // Judged against the goal on the hub, verified: what the coordinator signed, not what a mirror holds.
        return { region, goal, revision, goalError, convergence: this.convergence(region, service, targetOf(goal)), mirror: this.options.mirrors?.(region) ?? null };
      }),
    );
    const [newest] = await sql.selectDeployments(this.db, service, 1);
    const deployWaves = previewWaves(this.wavePlan, this.regions, own ? { service, plan: own } : null);
    return { service, lock: await this.getLock(service), regions, deployment: newest ? toDeployment(newest) : null, deployWaves };
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

  async getLock(service: string): Promise<ServiceLock | null> {
    const row = await sql.selectLock(this.db, service);
    return row ? toLock(row) : null;
  }

  private convergence(region: string, service: string, target: GoalTarget | null): RegionConvergence {
    const summary = this.options.fleet.summary(region, service, target);
    return summary ? toConvergence(summary) : unknownConvergence(region, service, target);
  }

  /** The deployment an earlier request with the same Idempotency-Key made, if any; CONFLICT if it was another request. */
  private async replay(request: DeployRequest, kind: DeploymentKind, service?: string): Promise<DeployOutcome | undefined> {
    if (request.idempotencyKey === undefined) return undefined;
    const row = await sql.selectDeploymentByKey(this.db, idempotencyKey(request.by, request.idempotencyKey));
    if (!row) return undefined;
    const earlier = toDeployment(row);
    if (earlier.kind !== kind || (service !== undefined && earlier.service !== service)) {
      throw new FleetcastError(
        'CONFLICT',
        `Idempotency-Key ${JSON.stringify(request.idempotencyKey)} was already used for ${earlier.id} (${earlier.kind} of ${earlier.service} to ${earlier.build}); send a new key for a new request`,
        { deployment: earlier.id },
      );
    }
    return { ...earlier, replayed: true };
  }

  /** The build a rollback returns to: `to`, else that of the newest deployment that ran everywhere it went (selectPreviousBuild) of another build than the current goal's. */
  private async rollbackTarget(goals: GoalStore, service: string, regions: string[], to: string | undefined): Promise<Build> {
    if (to !== undefined) return this.queue.get(parseBuildId(to));
    let current: GoalRevision | null = null;
    for (const region of regions) current ??= (await readGoal(goals, service, region)).current;
    const currentId = current ? parseBuildId(current.goal.build) : null;
    const previous = await sql.selectPreviousBuild(this.db, service, currentId);
    if (previous === null) {
      throw new FleetcastError(
        'NOT_FOUND',
        `no earlier deployed build of ${service} to roll back to${current ? ` (the goal is ${current.goal.build})` : ''}; name one with --to BUILD`,
        { service },
      );
    }
    return this.queue.get(previous);
  }

  /**
   * Records the deployment with its waves, stops rollouts of the service still in progress,
   * writes the first wave, and records how that ended; a rollback also locks the service.
   * Once a goal is written the fleet moves: a database failure after that must not turn the
   * request into an error (nor make a rollback fall back and roll back once more), so the rest
   * is spooled.
   */
  private async start(goals: GoalStore, build: Build, plan: string[][], kind: DeploymentKind, request: DeployRequest & { lockReason?: string | undefined }): Promise<DeployOutcome> {
    // Before anything is recorded: a coordinator that cannot sign writes no goal at all.
    if (!goals.signs) throw noSigningKey(`the goals of ${build.service} ${formatBuildId(build.id)}`);
    const createdAt = new Date();
    const reason = request.reason ?? '';
    const service = await this.services.get(build.service);
    const waves = newWaves(plan);
    const key = request.idempotencyKey === undefined ? null : idempotencyKey(request.by, request.idempotencyKey);
    let id: number;
    try {
      id = await sql.insertDeployment(this.db, {
        service: build.service,
        buildId: build.id,
        regions: planRegions(plan),
        kind,
        requestedBy: request.by,
        reason,
        status: 'WRITING',
        createdAt,
        error: null,
        waves: encodeWaves(waves),
        idempotencyKey: key,
      });
    } catch (err) {
      // The same key raced in from a retry: the other request's deployment is the answer.
      if (key !== null && isUniqueViolation(err)) return (await this.replay(request, kind, build.service))!;
      throw err;
    }
    const deploymentId = formatDeploymentId(id);
    await this.runner.supersedeRolling(build.service, id, kind === 'rollback' ? planRegions(plan) : null);
    let signed: Wave['goals'];
    try {
      signed = await this.writer.write(goals, { deployment: deploymentId, build, service, kind, by: request.by, reason }, waves[0]!.regions, waves[0]!.shares);
    } catch (err) {
      waves[0]!.status = 'FAILED';
      waves.slice(1).forEach((wave) => (wave.status = 'SKIPPED'));
      await sql
        .finishDeployment(this.db, id, 'FAILED', (err as Error).message, encodeWaves(waves))
        .catch((e: unknown) => this.options.logger.error({ err: e, deployment: deploymentId }, 'could not record the failed deployment'));
      throw err;
    }
    waves[0] = { ...waves[0]!, status: 'WRITTEN', writtenAt: new Date(), goals: signed };
    if (plan.length > 1 && this.options.prefetch !== false) {
      await this.writer.writePrefetch(goals, { deployment: deploymentId, build, service, kind, by: request.by, reason }, planRegions(plan.slice(1)));
    }
    // ROLLING until every wave has converged (the WaveRunner records CONVERGED or FAILED).
    const status = 'ROLLING';
    this.options.logger.info({ deployment: deploymentId, service: build.service, build: formatBuildId(build.id), waves: plan, kind, by: request.by }, `${kind} started`);
    const lock = kind === 'rollback' ? { lockedBy: request.by, reason: request.lockReason ?? `rolled back by ${request.by}`, since: new Date() } : null;
    try {
      if (lock) await sql.replaceLock(this.db, build.service, lock.lockedBy, lock.reason, lock.since);
      await sql.finishDeployment(this.db, id, status, null, encodeWaves(waves));
      return toDeployment((await sql.selectDeployment(this.db, id))!);
    } catch (err) {
      if (!isFleetcastError(err, 'DATABASE_UNAVAILABLE')) throw err;
      this.options.spool.write({
        finish: { id, status, waves: encodeWaves(waves) },
        ...(lock ? { lock: { service: build.service, ...lock, since: lock.since.toISOString(), replace: true } } : {}),
      });
      const buildId = formatBuildId(build.id);
      return { id: deploymentId, service: build.service, build: buildId, regions: planRegions(plan), kind, requestedBy: request.by, reason, status, createdAt, error: null, waves, convergedAt: null, rollback: null, spooled: true };
    }
  }

  /** Runs a state change and writes its audit row, whatever the outcome; spooled if SQL is down. */
  private async audited<T>(action: string, target: () => string, actor: string, detail: Record<string, unknown>, work: () => Promise<T>): Promise<T> {
    const at = new Date();
    try {
      const result = await work();
      const replayed = (result as { replayed?: boolean } | null)?.replayed === true;
      await this.audit({ at, actor, action, target: target(), result: 'ok', detail: replayed ? { ...detail, replayed: true } : detail });
      return result;
    } catch (err) {
      const error = isFleetcastError(err) ? { code: err.code, message: err.message } : { code: 'INTERNAL', message: String(err) };
      const result = isFleetcastError(err) && refusalCodes.includes(err.code) ? 'refused' : 'error';
      // A rollback without SQL writes its own audit record (spooled) once it has succeeded.
      if (!(action === 'rollback' && isFleetcastError(err, 'DATABASE_UNAVAILABLE'))) {
        await this.audit({ at, actor, action, target: target(), result, detail: { ...detail, error } });
      }
      throw err;
    }
  }

  /** An audit row of something the coordinator did by itself (a mirror repaired); spooled while SQL is down. */
  record(row: sql.AuditInsert): Promise<void> {
    return this.audit(row);
  }

  private async audit(row: sql.AuditInsert): Promise<void> {
    try {
      await sql.insertAudit(this.db, row);
    } catch (err) {
      if (!isFleetcastError(err, 'DATABASE_UNAVAILABLE')) throw err;
      this.options.spool.write({ audit: { ...row, at: row.at.toISOString() } });
    }
  }
}

/** Keys are per caller (two callers may pick the same key) and fixed-length in SQL. */
/** The audit detail naming the relay that acted for the actor, if any. */
function viaDetail(via: Relay | undefined): { via?: Relay } {
  return via ? { via: { token: via.token, id: via.id } } : {};
}

function idempotencyKey(by: string, key: string): string {
  return createHash('sha256').update(by).update('\n').update(key).digest('hex');
}
