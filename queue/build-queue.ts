import { randomUUID } from 'node:crypto';
import type { Database } from '../entities/index.ts';
import { FleetcastError } from '../errors/index.ts';
import type { ServiceRegistry } from './services/index.ts';
import {
  formatBuildId,
  isFinal,
  parseBuildId,
  toBuild,
  validateCommit,
  validateDigest,
  type Build,
  type BuildStatus,
  type ClaimedBuild,
} from './build.ts';
import type { Claim, Claimed } from './claim.ts';
import { buildsTable } from './job-table.ts';
import type { BuildResult, WorkSource } from './queue-worker.ts';
import { markCancelled } from './sql/cancel.ts';
import { claimOldest } from './sql/claim.ts';
import { markFailed, markSucceeded, releaseClaim } from './sql/complete.ts';
import { findActiveBuild, insertBuild, lockService } from './sql/enqueue.ts';
import { touchHeartbeat } from './sql/heartbeat.ts';
import { countByStatus, selectBuild, selectBuilds } from './sql/select.ts';

export interface BuildQueueOptions {
  /** Claims of one build before a lost worker fails it for good. @defaultValue 3 */
  maxAttempts?: number;
}

export interface EnqueueRequest {
  service: string;
  commit: string;
  requestedBy?: string;
  maxAttempts?: number;
}

export interface SubmitRequest extends EnqueueRequest {
  /** Queue a new build even if the same commit is already QUEUED or RUNNING. @defaultValue false */
  force?: boolean;
  /** An admin's name: build the commit even if it is not on the service's branch (a new build, audited by the caller). */
  branchOverrideBy?: string;
  /** Return the newest build of the commit whatever its status, queue only if it never had one (webhook pushes). @defaultValue false */
  once?: boolean;
}

export interface SubmitResult {
  build: Build;
  /** false: an equal build was already QUEUED or RUNNING and is returned instead. */
  created: boolean;
}

export interface ListRequest {
  service?: string;
  status?: BuildStatus;
  beforeId?: number;
  /** @defaultValue 50 (at most 1000) */
  limit?: number;
}

/**
 * The durable FIFO queue of builds. Workers claim, heartbeat and complete through it; every
 * write of a worker carries its claim token, so a worker that lost its claim gets CLAIM_LOST
 * (or CANCELLED) and can never change the build's state. SUCCEEDED and FAILED are final.
 */
export class BuildQueue {
  private readonly maxAttempts: number;

  constructor(
    private readonly db: Database,
    private readonly services: ServiceRegistry,
    options: BuildQueueOptions = {},
  ) {
    this.maxAttempts = options.maxAttempts ?? 3;
  }

  async enqueue(request: EnqueueRequest): Promise<Build> {
    const commit = validateCommit(request.commit);
    const service = await this.services.get(request.service);
    const id = await insertBuild(this.db, {
      service: service.name,
      commit,
      artifact: service.artifactPath,
      maxAttempts: request.maxAttempts ?? this.maxAttempts,
      requestedBy: request.requestedBy ?? null,
      branchOverrideBy: null,
    });
    return this.get(id);
  }

  /**
   * What users and webhooks call: queues a build of (service, commit) unless an equal one is
   * already QUEUED or RUNNING, so a retried request or a repeated webhook builds once.
   * Checked and inserted in one transaction that locks the service row, so two concurrent
   * requests cannot both insert.
   */
  async submit(request: SubmitRequest): Promise<SubmitResult> {
    const commit = validateCommit(request.commit);
    const service = await this.services.get(request.service);
    const outcome = await this.db.transaction(async (tx) => {
      await lockService(tx, service.name);
      if (!request.force && request.branchOverrideBy === undefined) {
        const active = await findActiveBuild(tx, service.name, commit, request.once === true);
        if (active !== null) return { id: active, created: false };
      }
      const id = await insertBuild(tx, {
        service: service.name,
        commit,
        artifact: service.artifactPath,
        maxAttempts: request.maxAttempts ?? this.maxAttempts,
        requestedBy: request.requestedBy ?? null,
        branchOverrideBy: request.branchOverrideBy ?? null,
      });
      return { id, created: true };
    });
    return { build: await this.get(outcome.id), created: outcome.created };
  }

  /** The oldest QUEUED build, now RUNNING and held by `workerId`; null when the queue is empty. */
  async claim(workerId: string): Promise<ClaimedBuild | null> {
    if (!workerId) throw new FleetcastError('INVALID_INPUT', 'a worker needs an id to claim builds');
    const token = randomUUID();
    const row = await claimOldest(this.db, buildsTable, workerId, token);
    if (!row) return null;
    const build = toBuild(row);
    return { build, claim: { id: build.id, workerId, token } };
  }

  async heartbeat(claim: Claim): Promise<void> {
    if (await touchHeartbeat(this.db, buildsTable, claim)) return;
    throw await this.lostClaimError(claim, 'heartbeat');
  }

  async succeed(claim: Claim, result: BuildResult): Promise<Build> {
    const digest = validateDigest(result.digest);
    if (!Number.isSafeInteger(result.size) || result.size < 0) {
      throw new FleetcastError('INVALID_INPUT', `artifact size must be a whole number of bytes, got ${result.size}`);
    }
    const commit = { commit_author: result.commitAuthor?.slice(0, 255) ?? null, commit_subject: result.commitSubject?.slice(0, 500) ?? null };
    const used = result.used
      ? { build_command: result.used.buildCommand, artifact: result.used.artifact, run_command: result.used.runCommand, health_url: result.used.healthUrl, build_config: JSON.stringify(result.used.config) }
      : {};
    if (await markSucceeded(this.db, buildsTable, claim, { digest, size: result.size, ...commit, ...used })) return this.get(claim.id);
    const build = await this.get(claim.id);
    // A retry whose first attempt committed before the connection dropped.
    if (build.status === 'SUCCEEDED' && build.digest === digest && (await this.holdsToken(claim))) return build;
    throw await this.lostClaimError(claim, 'succeed');
  }

  async fail(claim: Claim, reason: string): Promise<Build> {
    if (await markFailed(this.db, buildsTable, claim, reason)) return this.get(claim.id);
    const build = await this.get(claim.id);
    if (build.status === 'FAILED' && build.cancelledBy === null && (await this.holdsToken(claim))) return build;
    throw await this.lostClaimError(claim, 'fail');
  }

  /** Puts a RUNNING build back at its place in the queue without counting the attempt. */
  async release(claim: Claim): Promise<Build> {
    if (await releaseClaim(this.db, buildsTable, claim)) return this.get(claim.id);
    throw await this.lostClaimError(claim, 'release');
  }

  async cancel(buildId: number | string, by: string): Promise<Build> {
    const id = parseBuildId(buildId);
    if (!(await markCancelled(this.db, id, by, `cancelled by ${by}`))) {
      const build = await this.get(id);
      throw new FleetcastError(
        'FINAL_STATE',
        `build ${formatBuildId(id)} is already ${build.status}; only QUEUED or RUNNING builds can be cancelled`,
        { buildId: formatBuildId(id), status: build.status },
      );
    }
    return this.get(id);
  }

  async get(buildId: number | string): Promise<Build> {
    const id = parseBuildId(buildId);
    const row = await selectBuild(this.db, id);
    if (!row) {
      throw new FleetcastError('NOT_FOUND', `no build ${formatBuildId(id)}; list builds with: fleetcast builds`, {
        buildId: formatBuildId(id),
      });
    }
    return toBuild(row);
  }

  /** Newest first. */
  async list(request: ListRequest = {}): Promise<Build[]> {
    const limit = Math.min(Math.max(request.limit ?? 50, 1), 1000);
    const rows = await selectBuilds(this.db, { ...request, limit });
    return rows.map(toBuild);
  }

  /** The queue as a QueueWorker consumes it. */
  asWorkSource(): WorkSource<Build, BuildResult> {
    return {
      claim: async (workerId): Promise<Claimed<Build> | null> => {
        const claimed = await this.claim(workerId);
        return claimed && { job: claimed.build, claim: claimed.claim };
      },
      heartbeat: (claim) => this.heartbeat(claim),
      succeed: (claim, result) => this.succeed(claim, result),
      fail: (claim, reason) => this.fail(claim, reason),
      release: (claim) => this.release(claim),
      describe: (build) => ({ build: formatBuildId(build.id), service: build.service, attempt: build.attempts }),
    };
  }

  async counts(): Promise<Record<BuildStatus, number>> {
    return countByStatus(this.db);
  }

  private async holdsToken(claim: Claim): Promise<boolean> {
    const [row] = await this.db.query<{ claim_token: string | null }>(`SELECT claim_token FROM builds WHERE id = ?`, [claim.id]);
    return row?.claim_token === claim.token;
  }

  /** Says why a fenced write matched nothing: cancelled, finished, or taken over. */
  private async lostClaimError(claim: Claim, operation: string): Promise<FleetcastError> {
    const build = await this.get(claim.id);
    const id = formatBuildId(build.id);
    const details = { buildId: id, workerId: claim.workerId, operation, status: build.status };
    if (build.cancelledBy !== null) {
      return new FleetcastError('CANCELLED', `build ${id} was cancelled by ${build.cancelledBy}; stop working on it`, details);
    }
    const now =
      build.status === 'RUNNING'
        ? `RUNNING again, claimed by ${build.claimedBy}`
        : isFinal(build.status)
          ? `${build.status}${build.failureReason ? ` (${build.failureReason})` : ''}`
          : `${build.status} again`;
    return new FleetcastError(
      'CLAIM_LOST',
      `worker ${claim.workerId} no longer holds build ${id} (${operation} refused): the reaper took it back after missed heartbeats and it is now ${now}; stop working on it`,
      details,
    );
  }
}
