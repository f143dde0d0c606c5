import { isUniqueViolation, type Database } from '../../entities/index.ts';
import { FleetcastError, isFleetcastError } from '../../errors/index.ts';
import { noSigningKey } from '../../goalstate/index.ts';
import type { Logger } from '../../logging/index.ts';
import { formatBuildId, type Build } from '../../queue/index.ts';
import type { ServiceRegistry } from '../../queue/services/index.ts';
import type { AuditSpool } from './audit-spool.ts';
import { idempotencyKey, type DeployOutcome, type DeployRequest } from './deploy-request.ts';
import { formatDeploymentId, toDeployment, type DeploymentKind } from './deployment.ts';
import type { GoalStore } from './goal-store.ts';
import * as sql from './sql/deploy-sql.ts';
import type { WaveRunner } from './wave-runner.ts';
import type { WaveWriter } from './wave-writer.ts';
import { encodeWaves, newWaves, planRegions, type Wave } from './waves.ts';

export interface DeploymentStarterOptions {
  services: Pick<ServiceRegistry, 'get'>;
  runner: Pick<WaveRunner, 'supersedeRolling'>;
  writer: WaveWriter;
  spool: AuditSpool;
  /** FLEETCAST_DEPLOY_PREFETCH (see DeployServiceOptions.prefetch). */
  prefetch: boolean;
  logger: Logger;
}

/** Records a deployment that was allowed and writes its first wave; gives back the deployment an earlier request with the same key made. */
export class DeploymentStarter {
  constructor(
    private readonly db: Database,
    private readonly options: DeploymentStarterOptions,
  ) {}

  /** The deployment an earlier request with the same Idempotency-Key made, if any; CONFLICT if it was another request. */
  async replay(request: DeployRequest, kind: DeploymentKind, service?: string): Promise<DeployOutcome | undefined> {
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

  /**
   * Records the deployment with its waves, stops rollouts of the service still in progress,
   * writes the first wave, and records how that ended; a rollback also locks the service.
   * Once a goal is written the fleet moves: a database failure after that must not turn the
   * request into an error (nor make a rollback fall back and roll back once more), so the rest
   * is spooled.
   */
  async start(goals: GoalStore, build: Build, plan: string[][], kind: DeploymentKind, request: DeployRequest & { lockReason?: string | undefined }): Promise<DeployOutcome> {
    // Before anything is recorded: a coordinator that cannot sign writes no goal at all.
    if (!goals.signs) throw noSigningKey(`the goals of ${build.service} ${formatBuildId(build.id)}`);
    const createdAt = new Date();
    const reason = request.reason ?? '';
    const service = await this.options.services.get(build.service);
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
    await this.options.runner.supersedeRolling(build.service, id, kind === 'rollback' ? planRegions(plan) : null);
    let signed: Wave['goals'];
    try {
      signed = await this.options.writer.write(goals, { deployment: deploymentId, build, service, kind, by: request.by, reason }, waves[0]!.regions, waves[0]!.shares);
    } catch (err) {
      waves[0]!.status = 'FAILED';
      waves.slice(1).forEach((wave) => (wave.status = 'SKIPPED'));
      await sql
        .finishDeployment(this.db, id, 'FAILED', (err as Error).message, encodeWaves(waves))
        .catch((e: unknown) => this.options.logger.error({ err: e, deployment: deploymentId }, 'could not record the failed deployment'));
      throw err;
    }
    waves[0] = { ...waves[0]!, status: 'WRITTEN', writtenAt: new Date(), goals: signed };
    if (plan.length > 1 && this.options.prefetch) {
      await this.options.writer.writePrefetch(goals, { deployment: deploymentId, build, service, kind, by: request.by, reason }, planRegions(plan.slice(1)));
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
}
