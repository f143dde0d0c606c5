import path from 'node:path';
import { artifactObjectName } from '../../blobstore/index.ts';
import { coreKey } from '../../edge-agent/index.ts';
import type { Database } from '../../entities/index.ts';
import { FleetcastError, isFleetcastError, type ErrorCode } from '../../errors/index.ts';
import type { Goal, GoalRevision } from '../../goalstate/index.ts';
import type { Logger } from '../../logging/index.ts';
import { formatBuildId, parseBuildId, type Build, type BuildQueue } from '../queue/index.ts';
import type { ReplicationStatusService } from '../replication/index.ts';
import type { Service, ServiceRegistry } from '../services/index.ts';
import type { AuditSpool } from './audit-spool.ts';
import { checkDeployable, requestedRegions } from './deploy-checks.ts';
import { formatDeploymentId, lockedError, toDeployment, toLock, type Deployment, type DeploymentKind, type ServiceLock } from './deployment.ts';
import type { GoalStore } from './goal-store.ts';
import { rollbackFromGoalHistory } from './rollback-without-sql.ts';
import { ServiceMutex } from './service-mutex.ts';
import * as sql from './sql/deploy-sql.ts';

export interface DeployServiceOptions {
  /** FLEETCAST_REGIONS. */
  regions: readonly string[];
  /** The goal state on the hub; null when NATS did not answer at start (deploys then answer NATS_UNAVAILABLE). */
  goals: GoalStore | null;
  /** Where records go while SQL is down. */
  spool: AuditSpool;
  /** FLEETCAST_SECRET: the P2P key of each build's core is derived from it (see edge-agent/p2p/core-key.ts). */
  clusterSecret: string;
  logger: Logger;
}

/** A relay (the Slack bot) that asked for `by`: its token, and the person's stable id. Kept in the audit row. */
export interface Relay {
  token: string;
  id: string;
}

export interface DeployRequest {
  regions?: string[] | undefined;
  by: string;
  /** Set when a relay acted for `by`. */
  via?: Relay | undefined;
  reason?: string | undefined;
}

export interface RollbackRequest extends DeployRequest {
  /** `b41`; @defaultValue the build deployed before the current one */
  to?: string | undefined;
}

export interface RegionGoal {
  region: string;
  goal: Goal | null;
  revision: number | null;
}

export interface ServiceStatus {
  service: string;
  lock: ServiceLock | null;
  regions: RegionGoal[];
}

// Refusals by a rule or of a bad request are audited as `refused`; anything else as `error`.
const refusalCodes: ErrorCode[] = ['NOT_DEPLOYABLE', 'LOCKED', 'FORBIDDEN', 'NOT_FOUND', 'INVALID_INPUT', 'CONFLICT', 'GOAL_CONFLICT'];

/**
 * Deploys, rollbacks, locks and their audit: a deploy checks the build and the lock, records
 * the deployment, writes the goal of each region with compare-and-set, and records how that
 * ended. Every state-changing call leaves an audit row (spooled while SQL is down).
 */
export class DeployService {
  private readonly mutex = new ServiceMutex();
  private readonly regions: readonly string[];

  constructor(
    private readonly db: Database,
    private readonly queue: Pick<BuildQueue, 'get'>,
    private readonly services: Pick<ServiceRegistry, 'get'>,
    private readonly replication: Pick<ReplicationStatusService, 'forBuild'>,
    private readonly options: DeployServiceOptions,
  ) {
    this.regions = options.regions;
  }

  async deploy(buildRef: string, request: DeployRequest): Promise<Deployment> {
    const detail: Record<string, unknown> = { build: buildRef, regions: request.regions ?? null, reason: request.reason ?? '', ...viaDetail(request.via) };
    let target = buildRef;
    return this.audited('deploy', () => target, request.by, detail, async () => {
      const build = await this.queue.get(parseBuildId(buildRef));
      target = build.service;
      detail.build = formatBuildId(build.id);
      const regions = requestedRegions(request.regions, this.regions);
      checkDeployable(build, await this.replication.forBuild(build), regions);
      const goals = this.goalStore();
      return this.mutex.run(build.service, async () => {
        const lock = await this.getLock(build.service);
        if (lock) throw lockedError(lock);
        const deployment = await this.writeDeployment(goals, build, regions, 'deploy', request);
        detail.deployment = deployment.id;
        return deployment;
      });
    });
  }

  /**
   * Back to the build deployed before the current one (or `to`), in every region or those
   * named, then locks the service. Works without SQL: see rollback-without-sql.ts.
   */
  async rollback(service: string, request: RollbackRequest): Promise<Deployment> {
    const by = request.by;
    const reason = request.reason ?? `rolled back by ${by}`;
    const detail: Record<string, unknown> = { to: request.to ?? null, regions: request.regions ?? null, reason, ...viaDetail(request.via) };
    const goals = this.goalStore();
    const regions = requestedRegions(request.regions, this.regions);
    return this.mutex.run(service, async () => {
      try {
        return await this.audited('rollback', () => service, by, detail, async () => {
          await this.services.get(service);
          const build = await this.rollbackTarget(goals, service, regions, request.to);
          checkDeployable(build, await this.replication.forBuild(build), regions);
          detail.build = formatBuildId(build.id);
          const deployment = await this.writeDeployment(goals, build, regions, 'rollback', { ...request, reason });
          detail.deployment = deployment.id;
          return deployment;
        });
      } catch (err) {
        if (!isFleetcastError(err, 'DATABASE_UNAVAILABLE')) throw err;
        this.options.logger.warn({ service, err }, 'database unavailable: rolling back from the goal history');
        return rollbackFromGoalHistory(goals, this.options.spool, { service, regions, to: request.to, by, via: request.via, reason });
      }
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

  /** The goal of each region, read from the hub, and the lock. */
  async status(service: string): Promise<ServiceStatus> {
    await this.services.get(service);
    const goals = this.goalStore();
    const regions = await Promise.all(
      this.regions.map(async (region): Promise<RegionGoal> => {
        const current = await goals.get(service, region);
        return { region, goal: current?.goal ?? null, revision: current?.revision ?? null };
      }),
    );
    return { service, lock: await this.getLock(service), regions };
  }

  async list(request: { service?: string | undefined; limit: number }): Promise<Deployment[]> {
    return (await sql.selectDeployments(this.db, request.service, request.limit)).map(toDeployment);
  }

  async getLock(service: string): Promise<ServiceLock | null> {
    const row = await sql.selectLock(this.db, service);
    return row ? toLock(row) : null;
  }

  private goalStore(): GoalStore {
    if (this.options.goals) return this.options.goals;
    throw new FleetcastError(
      'NATS_UNAVAILABLE',
      'deploys are off: the coordinator could not reach the NATS hub (FLEETCAST_NATS_URL) when it started; start the hub and restart the coordinator',
    );
  }

  /** The build a rollback returns to: `to`, else the newest APPLIED deployment of another build than the current goal's. */
  private async rollbackTarget(goals: GoalStore, service: string, regions: string[], to: string | undefined): Promise<Build> {
    if (to !== undefined) return this.queue.get(parseBuildId(to));
    let current: GoalRevision | null = null;
    for (const region of regions) current ??= await goals.get(service, region);
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
   * Records the deployment, writes the goals region by region (compare-and-set on the revision
   * just read), and records how it ended; a rollback also locks the service. A failure part-way
   * says which regions already have the new goal. Once every goal is written the fleet moves:
   * a database failure after that must not turn the request into an error (nor make a rollback
   * fall back and roll back once more), so the rest is spooled.
   */
  private async writeDeployment(goals: GoalStore, build: Build, regions: string[], kind: DeploymentKind, request: DeployRequest): Promise<Deployment> {
    const createdAt = new Date();
    const reason = request.reason ?? '';
    const service = await this.services.get(build.service);
    const id = await sql.insertDeployment(this.db, { service: build.service, buildId: build.id, regions, kind, requestedBy: request.by, reason, status: 'WRITING', createdAt, error: null });
    const deploymentId = formatDeploymentId(id);
    const written: string[] = [];
    try {
      for (const region of regions) {
        const current = await goals.get(build.service, region);
        const goal = goalFor({ build, service, region, deployment: deploymentId, kind, by: request.by, at: createdAt, reason, clusterSecret: this.options.clusterSecret });
        await goals.put(goal, { expectedRevision: current?.revision ?? null });
        written.push(region);
      }
    } catch (err) {
      const message = `${(err as Error).message}${written.length > 0 ? ` (the goal was already written in ${written.join(', ')})` : ' (no goal was written)'}`;
      await sql.finishDeployment(this.db, id, 'FAILED', message).catch((e: unknown) => this.options.logger.error({ err: e, deployment: deploymentId }, 'could not record the failed deployment'));
      if (isFleetcastError(err)) throw new FleetcastError(err.code, message, { ...err.details, deployment: deploymentId, writtenRegions: written }, { cause: err });
      throw err;
    }
    this.options.logger.info({ deployment: deploymentId, service: build.service, build: formatBuildId(build.id), regions, kind, by: request.by }, `${kind} applied`);
    const lock = kind === 'rollback' ? { lockedBy: request.by, reason: `rolled back by ${request.by}`, since: new Date() } : null;
    try {
      if (lock) await sql.replaceLock(this.db, build.service, lock.lockedBy, lock.reason, lock.since);
      await sql.finishDeployment(this.db, id, 'APPLIED', null);
      return toDeployment((await sql.selectDeployment(this.db, id))!);
    } catch (err) {
      if (!isFleetcastError(err, 'DATABASE_UNAVAILABLE')) throw err;
      this.options.spool.write({
        finish: { id, status: 'APPLIED' },
        ...(lock ? { lock: { service: build.service, ...lock, since: lock.since.toISOString(), replace: true } } : {}),
      });
      const buildId = formatBuildId(build.id);
      return { id: deploymentId, service: build.service, build: buildId, regions, kind, requestedBy: request.by, reason, status: 'APPLIED', createdAt, error: null, spooled: true };
    }
  }

  /** Runs a state change and writes its audit row, whatever the outcome; spooled if SQL is down. */
  private async audited<T>(action: string, target: () => string, actor: string, detail: Record<string, unknown>, work: () => Promise<T>): Promise<T> {
    const at = new Date();
    try {
      const result = await work();
      await this.audit({ at, actor, action, target: target(), result: 'ok', detail });
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

  /** A request refused before it reached the service (a token without the scope): audited all the same. */
  async auditRefusal(action: string, target: string, actor: string, error: FleetcastError, via?: Relay): Promise<void> {
    await this.audit({ at: new Date(), actor, action, target, result: 'refused', detail: { ...viaDetail(via), error: { code: error.code, message: error.message } } });
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

/** The audit detail naming the relay that acted for the actor, if any. */
export function viaDetail(via: Relay | undefined): { via?: Relay } {
  return via ? { via: { token: via.token, id: via.id } } : {};
}

export interface GoalInput {
  build: Build;
  service: Pick<Service, 'artifactPath' | 'runCommand'>;
  region: string;
  deployment: string;
  kind: DeploymentKind;
  by: string;
  at: Date;
  reason: string;
  clusterSecret: string;
}

/** The goal document of a deployment in one region: everything an agent needs to fetch, verify and run the build. */
export function goalFor(input: GoalInput): Goal {
  const { build } = input;
  return {
    v: 1,
    service: build.service,
    region: input.region,
    build: formatBuildId(build.id),
    digest: build.digest!,
    size: build.size!,
    artifact: artifactObjectName(build.service, build.id, build.digest!),
    p2pKey: coreKey(input.clusterSecret, build.digest!),
    fileName: path.posix.basename(input.service.artifactPath),
    runCommand: input.service.runCommand,
    healthUrl: null,
    deployment: input.deployment,
    kind: input.kind,
    by: input.by,
    at: input.at.toISOString(),
    reason: input.reason,
  };
}
