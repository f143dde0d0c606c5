import { humanDuration } from '../../config/index.ts';
import type { Database } from '../../entities/index.ts';
import type { Logger } from '../../logging/index.ts';
import { PeriodicTask } from '../../lifecycle/index.ts';
import { parseBuildId, type BuildQueue } from '../../queue/index.ts';
import type { ServiceRegistry } from '../../queue/services/index.ts';
import { judgeWave, toConvergence, unknownConvergence, type WaveVerdict } from './convergence.ts';
import { toDeployment, type Deployment } from './deployment.ts';
import type { FleetState } from './goal-store.ts';
import type { ServiceMutex } from './service-mutex.ts';
import * as sql from './sql/deploy-sql.ts';
import type { WaveWriter } from './wave-writer.ts';
import { deploymentTarget, encodeWaves, type Wave } from './waves.ts';

export interface WaveRunnerOptions {
  queue: Pick<BuildQueue, 'get'>;
  services: Pick<ServiceRegistry, 'get'>;
  fleet: FleetState;
  mutex: ServiceMutex;
  writer: WaveWriter;
  logger: Logger;
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
}

/**
 * Moves rollouts forward: for each deployment still in progress it judges the wave last
 * written against the agents' reports, and writes the next wave once that one converged
 * (after the soak time), halts the rollout when too many machines failed or the wave timed out,
 * and records when the whole deployment converged. Safe in several coordinators at once: each
 * step is recorded only if the deployment's waves are still as read, and a wave's goals are
 * written before the step is recorded, so a crash in between writes them again (WaveWriter
 * skips regions that already have them).
 */
export class WaveRunner {
  private readonly task: PeriodicTask;
  private readonly maxFailedFraction: number;
  private readonly minDoneFraction: number;
  private readonly timeoutMs: number;
  private readonly soakMs: number;

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
    for (const row of await sql.selectFollowed(this.db, since)) {
      const deployment = toDeployment(row);
      try {
        await this.step(deployment, row.waves === null ? null : String(row.waves));
      } catch (err) {
        this.options.logger.warn({ err, deployment: deployment.id, service: deployment.service }, 'could not move the rollout forward; trying again next round');
      }
    }
  }

  /** A new deploy or rollback takes over: rollouts of the service still writing waves stop where they are. */
  async supersedeRolling(service: string, newId: number): Promise<void> {
    for (const row of await sql.selectRolling(this.db, service)) {
      if (Number(row.id) === newId) continue;
      const deployment = toDeployment(row);
      const waves = deployment.waves.map((wave) => (wave.status === 'PENDING' ? { ...wave, status: 'SKIPPED' as const } : wave));
      await this.record(deployment, String(row.waves), { status: 'SUPERSEDED', waves, error: `superseded by d${newId} before every wave was written`, convergedAt: null });
    }
  }

  private async step(deployment: Deployment, wavesAsRead: string | null): Promise<void> {
    const waves = deployment.waves.map((wave) => ({ ...wave }));
    const now = new Date();
    const written = waves.findIndex((wave) => wave.status === 'WRITTEN');
    if (written >= 0) {
      const wave = waves[written]!;
      const verdict = this.judge(deployment, wave, now);
      if (verdict.kind === 'waiting') return;
      waves[written] = { ...wave, status: verdict.kind === 'done' ? 'CONVERGED' : 'FAILED', doneAt: now };
      if (verdict.kind === 'halt') {
        const later = waves.slice(written + 1).some((w) => w.status === 'PENDING');
        for (const w of waves) if (w.status === 'PENDING') w.status = 'SKIPPED';
        const error = `wave ${written + 1} (${wave.regions.join(', ')}) failed: ${verdict.reason}${later ? '; the later waves were not written — fix and deploy again, or roll back' : ''}`;
        this.options.logger.warn({ deployment: deployment.id, service: deployment.service, wave: written + 1 }, error);
        await this.record(deployment, wavesAsRead, { status: later ? 'HALTED' : 'APPLIED', waves, error, convergedAt: null });
        return;
      }
    }
    const next = waves.findIndex((wave) => wave.status === 'PENDING');
    if (next < 0) {
      const convergedAt = waves.every((w) => w.status === 'CONVERGED') ? now : null;
      if (convergedAt) this.options.logger.info({ deployment: deployment.id, service: deployment.service, build: deployment.build }, 'deployment converged');
      await this.record(deployment, wavesAsRead, { status: 'APPLIED', waves, error: null, convergedAt });
      return;
    }
    const previous = waves[next - 1];
    if (previous?.doneAt && now.getTime() - previous.doneAt.getTime() < this.soakMs) {
      // Record the convergence now; the next wave goes once the soak time is over.
      if (written >= 0) await this.record(deployment, wavesAsRead, { status: 'ROLLING', waves, error: null, convergedAt: null });
      return;
    }
    await this.writeWave(deployment, waves, next, wavesAsRead);
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
      const build = await this.options.queue.get(parseBuildId(deployment.build));
      const service = await this.options.services.get(deployment.service);
      const wave = waves[index]!;
      const goals = await this.options.writer.write(this.options.fleet.goals(), { deployment: deployment.id, build, service, kind: deployment.kind, by: deployment.requestedBy, reason: deployment.reason }, wave.regions);
      waves[index] = { ...wave, status: 'WRITTEN', writtenAt: new Date(), goals };
      const last = !waves.some((w) => w.status === 'PENDING');
      await this.record(deployment, wavesAsRead, { status: last ? 'APPLIED' : 'ROLLING', waves, error: null, convergedAt: null });
    });
  }

  private async record(deployment: Deployment, wavesAsRead: string | null, update: { status: Deployment['status']; waves: Wave[]; error: string | null; convergedAt: Date | null }): Promise<void> {
    const changed = await sql.updateDeploymentProgress(this.db, Number(deployment.id.slice(1)), wavesAsRead, { ...update, waves: encodeWaves(update.waves) });
    if (!changed) this.options.logger.debug({ deployment: deployment.id }, 'rollout step recorded elsewhere first');
  }
}
