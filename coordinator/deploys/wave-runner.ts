import { humanDuration } from '../../config/index.ts';
import type { Database } from '../../entities/index.ts';
import { isFleetcastError } from '../../errors/index.ts';
import type { Logger } from '../../logging/index.ts';
import { PeriodicTask } from '../../lifecycle/index.ts';
import { parseBuildId, type BuildQueue } from '../../queue/index.ts';
import type { ServiceRegistry } from '../../queue/services/index.ts';
import { judgeWave, toConvergence, unknownConvergence, type WaveVerdict } from './convergence.ts';
import type { AuditSpool } from './audit-spool.ts';
import { pendingRollback, toDeployment, type Deployment } from './deployment.ts';
import type { FleetState } from './goal-store.ts';
import type { MetricGate } from './metric-gate.ts';
import { rolloutLease, type Leases } from './leases.ts';
import type { ServiceMutex } from './service-mutex.ts';
import * as sql from './sql/deploy-sql.ts';
import type { WaveWriter } from './wave-writer.ts';
import { deploymentTarget, encodeWaves, type Wave } from './waves.ts';

/** What undoing a deployment's written regions did: the rollback deployment(s) and a sentence for the record. */
export interface UndoOutcome {
  /** The (first) rollback deployment written; null when nothing needed it. */
  rollback: string | null;
  summary: string;
}

/** Puts the regions a deployment wrote back on the build they ran before, as rollbacks by `by` (DeployService.undo). */
export type UndoDeployment = (deployment: Deployment, regions: string[], by: string | null, reason: string) => Promise<UndoOutcome>;

export interface WaveRunnerOptions {
  queue: Pick<BuildQueue, 'get'>;
  services: Pick<ServiceRegistry, 'get'>;
  fleet: FleetState;
  mutex: ServiceMutex;
  /** Which coordinator steps each rollout (several may run): this one steps only those whose lease it holds. */
  leases: Leases;
  writer: WaveWriter;
  /** Where a failed wave is recorded while SQL is down. */
  spool: AuditSpool;
  /** Rolls back what a failed deployment wrote. */
  undo: UndoDeployment;
  logger: Logger;
  /** Roll the regions of a failed wave back to the build they ran before (FLEETCAST_DEPLOY_AUTO_ROLLBACK; a service's own setting overrides it). @defaultValue true */
  autoRollback?: boolean;
  /** Failed machines tolerated per wave, as a fraction of its live machines (FLEETCAST_WAVE_MAX_FAILED). @defaultValue 0 */
  maxFailedFraction?: number;
  /** Share of a wave's live machines done with the build before the next is written (FLEETCAST_WAVE_MIN_DONE). @defaultValue 1 */
  minDoneFraction?: number;
  /** A wave not converged this long after it was written fails (FLEETCAST_WAVE_TIMEOUT). @defaultValue 30 min */
  timeoutMs?: number;
  /** Time between a wave converging and the next one being written (FLEETCAST_WAVE_SOAK). @defaultValue 0 */
  soakMs?: number;
  /** Time between rounds. @defaultValue 1_000 */
  intervalMs?: number;
  /** Deployments older than this are no longer followed. @defaultValue 7 days */
  followForMs?: number;
  /** The services' metric gates, checked once a wave converged (FLEETCAST_PROMETHEUS_URL set); absent: the agents' health alone. */
  metricGate?: MetricGate;
}

/** How the error of a deployment whose rollback is claimed ends, replaced by what was done. */
const pendingSuffix = /; rolling back( automatically)?$/;

type ProgressUpdate = { status: Deployment['status']; waves: Wave[]; error: string | null; convergedAt: Date | null; rollback?: string | null };

/**
 * Moves rollouts forward: for each deployment still in progress it judges the wave last
 * written against the agents' reports, and writes the next wave once that one converged
 * (after the soak time, unless the rollout is PAUSED), fails the deployment when too many
 * machines failed or the wave timed out — and then rolls the regions it wrote back to the build
 * they ran before — and records CONVERGED once every wave has. Safe in several coordinators at
 * once: each step is recorded only if the deployment's waves are still as read, and a wave's
 * goals are written before the step is recorded, so a crash in between writes them again
 * (WaveWriter skips regions that already have them). A failure claims its rollback (`pending`)
 * before doing it, so a coordinator that dies in between leaves it to the next round. While
 * SQL is down the runner keeps judging the rollouts it last read: a failed wave is still
 * rolled back (from the goal history) and its record spooled.
 */
export class WaveRunner {
  private readonly task: PeriodicTask;
  private readonly maxFailedFraction: number;
  private readonly minDoneFraction: number;
  private readonly timeoutMs: number;
  private readonly soakMs: number;
  /** The rollouts last read from SQL: what the runner judges while SQL is down. */
  private lastFollowed: Record<string, unknown>[] = [];
  /** Deployments failed and rolled back while SQL was down: not judged again until their spooled records are in SQL. */
  private readonly undoneWithoutSql = new Set<string>();
  /** Rollouts whose lease this coordinator held at its last look: what it goes on judging while SQL is down. */
  private readonly held = new Set<string>();
  /** Deployments whose rollback this process is doing now (claimRollback, rollBack). */
  private readonly rollingBack = new Set<string>();
  /** Each service's own auto-rollback setting as last read (null: the global one): what a failure uses while SQL is down. */
  private readonly autoRollbackOf = new Map<string, boolean | null>();

  constructor(
    private readonly db: Database,
    private readonly options: WaveRunnerOptions,
  ) {
    this.maxFailedFraction = options.maxFailedFraction ?? 0;
    this.minDoneFraction = options.minDoneFraction ?? 1;
    this.timeoutMs = options.timeoutMs ?? 30 * 60_000;
    this.soakMs = options.soakMs ?? 0;
    this.task = new PeriodicTask('moving rollouts forward', options.intervalMs ?? 1_000, () => this.runOnce(), options.logger);
  }

  start(): void {
    this.task.start();
  }

  async stop(): Promise<void> {
    await this.task.stop();
  }

  /** One round over every followed deployment. */
  async runOnce(): Promise<void> {
    const since = new Date(Date.now() - (this.options.followForMs ?? 7 * 86_400_000));
    let rows: Record<string, unknown>[];
    try {
      rows = await sql.selectFollowed(this.db, since);
      this.lastFollowed = rows;
      await this.options.leases.forgetExpired();
      // Their records may still wait in the spool: until it is written, SQL shows them still rolling.
      if (this.options.spool.pending().length === 0) this.undoneWithoutSql.clear();
    } catch (err) {
      if (!isFleetcastError(err, 'DATABASE_UNAVAILABLE') || this.lastFollowed.length === 0) throw err;
      rows = this.lastFollowed;
    }
    for (const row of rows) {
      const deployment = toDeployment(row);
      if (this.undoneWithoutSql.has(deployment.id)) continue;
      try {
        if (!(await this.holdsRollout(deployment.id))) continue;
        await this.step(deployment, row.waves === null ? null : String(row.waves));
      } catch (err) {
        this.options.logger.warn({ err, deployment: deployment.id, service: deployment.service }, 'could not move the rollout forward; trying again next round');
      }
    }
  }

  /**
   * Takes or renews the rollout's lease: exactly one coordinator steps a rollout, and another
   * takes over once a dead one's lease ran out (FLEETCAST_ROLLOUT_LEASE). With SQL down, a
   * coordinator goes on with the rollouts it held.
   */
  private async holdsRollout(id: string): Promise<boolean> {
    try {
      const mine = await this.options.leases.acquire(rolloutLease(id));
      if (mine) this.held.add(id);
      else this.held.delete(id);
      return mine;
    } catch (err) {
      if (!isFleetcastError(err, 'DATABASE_UNAVAILABLE')) throw err;
      return this.held.has(id);
    }
  }

  /** A rollout that needs no more stepping: its lease goes at once, not when it runs out. */
  private async letGo(id: string): Promise<void> {
    this.held.delete(id);
    await this.options.leases.release(rolloutLease(id)).catch(() => undefined);
  }

  /**
   * A new deploy or rollback takes over: rollouts of the service not yet converged stop where
   * they are (SUPERSEDED). A rollback over every region of the deployment it replaces (`rollbackRegions`)
   * makes that one ROLLED_BACK instead, a converged one included.
   */
  async supersedeRolling(service: string, newId: number, rollbackRegions: string[] | null): Promise<void> {
    const covers = (deployment: Deployment) => rollbackRegions !== null && deployment.regions.every((region) => rollbackRegions.includes(region));
    for (const row of await sql.selectRolling(this.db, service)) {
      if (Number(row.id) === newId) continue;
      const deployment = toDeployment(row);
      const skipped = deployment.waves.some((wave) => wave.status === 'PENDING');
      const waves = deployment.waves.map((wave) => (wave.status === 'PENDING' ? { ...wave, status: 'SKIPPED' as const } : wave));
      const rolledBack = covers(deployment);
      const error = rolledBack ? `rolled back by d${newId}` : skipped ? `superseded by d${newId} before every wave was written` : null;
      await this.record(deployment, String(row.waves), { status: rolledBack ? 'ROLLED_BACK' : 'SUPERSEDED', waves, error, convergedAt: null });
    }
    const previous = rollbackRegions === null ? undefined : await sql.selectNewestBefore(this.db, service, newId);
    if (previous && covers(toDeployment(previous))) await sql.markRolledBack(this.db, Number(previous.id), `rolled back by d${newId}`);
  }

  private async step(deployment: Deployment, wavesAsRead: string | null): Promise<void> {
    if (deployment.status === 'FAILED' || deployment.status === 'ABORTED') {
      // Claimed by a coordinator that died before it was done.
      const why = deployment.error ?? `${deployment.id} ${deployment.status}`;
      if (deployment.rollback === pendingRollback && !this.rollingBack.has(deployment.id)) await this.rollBack(deployment, why, null, `${deployment.status === 'FAILED' ? 'automatic ' : ''}rollback of ${deployment.id}: ${why.replace(pendingSuffix, '')}`);
      return;
    }
    const waves = deployment.waves.map((wave) => ({ ...wave }));
    const now = new Date();
    const written = waves.findIndex((wave) => wave.status === 'WRITTEN');
    if (written >= 0) {
      let wave = waves[written]!;
      let verdict = this.judge(deployment, wave, now);
      if (verdict.kind === 'waiting') return;
      if (verdict.kind === 'done' && this.options.metricGate) {
        // Converged on the agents' health: the service's metric gate (if any) must hold too.
        const gate = await this.options.metricGate.check(deployment, wave, written, now);
        if (gate.kind === 'holding') {
          waves[written] = { ...wave, gate: gate.gate };
          if (gate.changed) await this.record(deployment, wavesAsRead, { status: deployment.status, waves, error: null, convergedAt: null });
          return;
        }
        if (gate.kind !== 'none') wave = { ...wave, gate: gate.gate };
        if (gate.kind === 'failed') verdict = { kind: 'halt', reason: gate.reason };
      }
      waves[written] = { ...wave, status: verdict.kind === 'done' ? 'CONVERGED' : 'FAILED', doneAt: now };
      if (verdict.kind === 'halt') {
        await this.fail(deployment, wavesAsRead, waves, `wave ${written + 1} (${wave.regions.join(', ')}) failed: ${verdict.reason}`);
        return;
      }
    }
    const next = waves.findIndex((wave) => wave.status === 'PENDING');
    if (next < 0) {
      this.options.logger.info({ deployment: deployment.id, service: deployment.service, build: deployment.build }, 'deployment converged');
      if (await this.record(deployment, wavesAsRead, { status: 'CONVERGED', waves, error: null, convergedAt: now })) await this.letGo(deployment.id);
      return;
    }
    const previous = waves[next - 1];
    const soaking = previous?.doneAt && !previous.promotedBy && now.getTime() - previous.doneAt.getTime() < this.soakMs;
    if (soaking || deployment.status === 'PAUSED') {
      // Record the convergence now; the next wave goes once the soak time is over and the rollout is not paused.
      if (written >= 0) await this.record(deployment, wavesAsRead, { status: deployment.status, waves, error: null, convergedAt: null });
      return;
    }
    await this.writeWave(deployment, waves, next, wavesAsRead);
  }

  /**
   * A wave failed: the later waves are never written, the deployment is FAILED, and (unless
   * FLEETCAST_DEPLOY_AUTO_ROLLBACK is off) the regions it wrote go back to the build they ran before.
   */
  private async fail(deployment: Deployment, wavesAsRead: string | null, waves: Wave[], why: string): Promise<void> {
    const later = waves.some((w) => w.status === 'PENDING');
    for (const w of waves) if (w.status === 'PENDING') w.status = 'SKIPPED';
    const auto = await this.autoRollback(deployment.service);
    const error = auto
      ? `${why}; ${later ? 'the later waves were not written; ' : ''}rolling back automatically`
      : `${why}; ${later ? 'the later waves were not written; ' : ''}automatic rollback is off — roll back with fleetcast rollback ${deployment.service}, or fix and deploy again`;
    this.options.logger.warn({ deployment: deployment.id, service: deployment.service, build: deployment.build }, error);
    const update: ProgressUpdate = { status: 'FAILED', waves, error, convergedAt: null, ...(auto ? { rollback: pendingRollback } : {}) };
    try {
      // Fencing: only the lease's holder fails a rollout (and so rolls it back).
      if (!(await this.options.leases.stillHeld(rolloutLease(deployment.id)))) return;
      if (!(await this.record(deployment, wavesAsRead, update))) return;
    } catch (err) {
      if (!isFleetcastError(err, 'DATABASE_UNAVAILABLE')) throw err;
      this.options.spool.write({ rollout: { id: Number(deployment.id.slice(1)), expected: { waves: wavesAsRead, status: deployment.status }, update: { ...update, waves: encodeWaves(waves) } } });
      this.undoneWithoutSql.add(deployment.id);
    }
    if (auto) await this.rollBack({ ...deployment, status: 'FAILED', waves, error }, error, null, `automatic rollback of ${deployment.id}: ${error.replace(pendingSuffix, '')}`);
  }

  /**
   * Undoes what a FAILED or ABORTED deployment (its rollback claimed: `pending`) wrote, as
   * rollbacks by `by` (null: the coordinator itself) locking the service with `reason`, and
   * records the outcome on it (spooled while SQL is down). `error` ends with "rolling back…".
   */
  /**
   * Marks the rollback of `id` as this process's own, before it is claimed in SQL: the loop, which
   * finishes claimed rollbacks of coordinators that died, leaves it alone until rollBack ends.
   */
  claimRollback(id: string): void {
    this.rollingBack.add(id);
  }

  releaseRollback(id: string): void {
    this.rollingBack.delete(id);
  }

  async rollBack(deployment: Deployment, error: string, by: string | null, reason: string): Promise<void> {
    this.rollingBack.add(deployment.id);
    try {
      await this.undoAndRecord(deployment, error, by, reason);
    } finally {
      this.rollingBack.delete(deployment.id);
    }
  }

  private async undoAndRecord(deployment: Deployment, error: string, by: string | null, reason: string): Promise<void> {
    // A region may be in two written waves (a share of it, then all of it): undone once.
    const regions = [...new Set(deployment.waves.filter((w) => w.status !== 'PENDING' && w.status !== 'SKIPPED').flatMap((w) => w.regions))];
    const outcome = await this.options.undo(deployment, regions, by, reason);
    const recorded = `${error.replace(pendingSuffix, '')}; ${outcome.summary}`;
    this.options.logger.warn({ deployment: deployment.id, service: deployment.service, rollback: outcome.rollback }, recorded);
    const id = Number(deployment.id.slice(1));
    try {
      await sql.recordRollback(this.db, id, outcome.rollback, recorded);
      await this.letGo(deployment.id);
    } catch (err) {
      if (!isFleetcastError(err, 'DATABASE_UNAVAILABLE')) throw err;
      this.options.spool.write({ rolledBack: { id, rollback: outcome.rollback, error: recorded } });
    }
  }

  /**
   * Whether a failed wave of `service` is rolled back: the service's own setting (services.auto_rollback)
   * when it has one, else FLEETCAST_DEPLOY_AUTO_ROLLBACK. While SQL is down, the setting last read.
   */
  private async autoRollback(service: string): Promise<boolean> {
    try {
      this.autoRollbackOf.set(service, (await this.options.services.get(service)).autoRollback ?? null);
    } catch (err) {
      if (!isFleetcastError(err, 'DATABASE_UNAVAILABLE')) throw err;
    }
    return this.autoRollbackOf.get(service) ?? this.options.autoRollback !== false;
  }

  /** Judged against the goals the wave signed (its record), never against what the regions' mirrors hold. */
  private judge(deployment: Deployment, wave: Wave, now: Date): WaveVerdict {
    const regions = wave.regions.map((region) => {
      const target = deploymentTarget(deployment.build, [wave], region);
      const summary = this.options.fleet.summary(region, deployment.service, target);
      return summary ? toConvergence(summary) : unknownConvergence(region, deployment.service, target);
    });
    const unsigned = wave.regions.filter((region) => !wave.goals[region]);
    const verdict: WaveVerdict =
      unsigned.length > 0
        ? { kind: 'waiting', reason: `no signed goal is recorded for ${unsigned.join(', ')} (a wave written before goals were signed): deploy again to have it judged` }
        : judgeWave(regions, { maxFailedFraction: this.maxFailedFraction, minDoneFraction: this.minDoneFraction });
    if (verdict.kind === 'waiting' && wave.writtenAt && now.getTime() - wave.writtenAt.getTime() > this.timeoutMs) {
      return { kind: 'halt', reason: `not converged within ${humanDuration(this.timeoutMs)} (${verdict.reason})` };
    }
    return verdict;
  }

  /** Writes wave `index` under the service's mutex, if the deployment is still rolling when its turn comes. */
  private async writeWave(deployment: Deployment, waves: Wave[], index: number, wavesAsRead: string | null): Promise<void> {
    await this.options.mutex.run(deployment.service, async () => {
      const fresh = await sql.selectDeployment(this.db, Number(deployment.id.slice(1)));
      if (!fresh || fresh.status !== 'ROLLING' || (fresh.waves === null ? null : String(fresh.waves)) !== wavesAsRead) return;
      // Fencing: a coordinator that stalled past its lease must not write a wave the new holder writes too.
      if (!(await this.options.leases.stillHeld(rolloutLease(deployment.id)))) {
        this.options.logger.info({ deployment: deployment.id, service: deployment.service }, 'rollout taken over by another coordinator; not writing the wave');
        return;
      }
      const build = await this.options.queue.get(parseBuildId(deployment.build));
      const service = await this.options.services.get(deployment.service);
      this.autoRollbackOf.set(service.name, service.autoRollback ?? null);
      const wave = waves[index]!;
      const goals = await this.options.writer.write(this.options.fleet.goals(), { deployment: deployment.id, build, service, kind: deployment.kind, by: deployment.requestedBy, reason: deployment.reason }, wave.regions, wave.shares);
      waves[index] = { ...wave, status: 'WRITTEN', writtenAt: new Date(), goals };
      await this.record(deployment, wavesAsRead, { status: 'ROLLING', waves, error: null, convergedAt: null });
    });
  }

  /** Records a step; false when another coordinator recorded one first. */
  private async record(deployment: Deployment, wavesAsRead: string | null, update: ProgressUpdate): Promise<boolean> {
    const changed = await sql.updateDeploymentProgress(this.db, Number(deployment.id.slice(1)), { waves: wavesAsRead, status: deployment.status }, { ...update, waves: encodeWaves(update.waves) });
    if (!changed) this.options.logger.debug({ deployment: deployment.id }, 'rollout step recorded elsewhere first');
    return changed;
  }
}
