import type { Database } from '../../entities/index.ts';
import { isFleetcastError } from '../../errors/index.ts';
import type { Logger } from '../../logging/index.ts';
import { PeriodicTask } from '../../lifecycle/index.ts';
import { formatBuildId, type BuildQueue } from '../../queue/index.ts';
import type { ServiceRegistry } from '../../queue/services/index.ts';
import type { ReplicationStatusService } from '../replication/index.ts';
import { isFinal, type DeployService } from '../deploys/index.ts';
import type { Clock } from './clock.ts';
import * as sql from './delivery-sql.ts';
import { firstBranch } from './delivery-settings.ts';
import { frozenError, type FreezeBook } from './freeze-book.ts';

/** The actor of continuous deploys in deployments, audit rows and Slack. */
export const continuousDeployActor = 'continuous-deploy';

export interface ContinuousDeployerOptions {
  /** FLEETCAST_CD_INTERVAL: how often the services with continuous deploy are looked at. */
  intervalMs: number;
  clock: Clock;
  logger: Logger;
}

type Decision = { state: 'waiting' | 'skipped'; reason: string } | { state: 'deploy' };

/**
 * Continuous deploy, level-triggered: every round derives from SQL alone what each opted-in
 * service should run — the newest SUCCEEDED build on its branch newer than every build it has
 * deployed — and deploys it with the service's wave plan once it is deployable everywhere, not
 * locked, not frozen, and no deploy of the service is in progress. Older builds that were
 * waiting are passed over (only the newest goes). What it did last is kept per service, so a
 * restarted coordinator carries on, and each change (deployed, waiting and why, skipped and why)
 * is audited once — which is what Slack announces.
 */
export class ContinuousDeployer {
  private readonly task: PeriodicTask;

  constructor(
    private readonly db: Database,
    private readonly queue: Pick<BuildQueue, 'get'>,
    private readonly services: Pick<ServiceRegistry, 'get'>,
    private readonly replication: Pick<ReplicationStatusService, 'forBuild'>,
    private readonly deploys: DeployService,
    private readonly freezes: FreezeBook,
    private readonly options: ContinuousDeployerOptions,
  ) {
    this.task = new PeriodicTask('continuous deploy', options.intervalMs, () => this.runOnce(), options.logger);
  }

  start(): void {
    this.task.start();
  }

  stop(): Promise<void> {
    return this.task.stop();
  }

  async runOnce(): Promise<void> {
    for (const row of await sql.selectContinuousServices(this.db)) {
      try {
        await this.consider(row);
      } catch (err) {
        this.options.logger.warn({ err, service: row.service }, 'continuous deploy: could not look at the service; trying again next round');
      }
    }
  }

  private async consider(row: sql.DeliveryRow): Promise<void> {
    const service = await this.services.get(row.service);
    const branch = row.cdBranch ?? firstBranch(service.branch);
    const candidate = await this.candidate(row.service);
    if (candidate === null) return;
    // A build it already gave up on (a failed check, a refused deploy) is not tried again: the next build is.
    if (row.cdBuildId === candidate && row.cdState === 'skipped') return;
    const passedOver = row.cdBuildId !== null && row.cdBuildId !== candidate && row.cdState === 'waiting' ? formatBuildId(row.cdBuildId) : null;
    const decision = await this.decide(row.service, candidate);
    if (decision.state !== 'deploy') {
      await this.record(row.service, { buildId: candidate, state: decision.state, reason: decision.reason, deployment: null }, passedOver);
      return;
    }
    const buildRef = formatBuildId(candidate);
    try {
      const deployment = await this.deploys.deploy(buildRef, { by: continuousDeployActor, reason: `continuous deploy of ${branch}`, idempotencyKey: `continuous-deploy:${row.service}:${buildRef}` });
      await this.record(row.service, { buildId: candidate, state: 'deployed', reason: `deployed as ${deployment.id}`, deployment: deployment.id }, passedOver);
    } catch (err) {
      if (!isFleetcastError(err) || ['DATABASE_UNAVAILABLE', 'NATS_UNAVAILABLE', 'GOAL_CONFLICT'].includes(err.code)) throw err;
      // Frozen or locked meanwhile: wait; anything else (a failed check) ends this build's turn.
      const state = err.code === 'FROZEN' || err.code === 'LOCKED' ? 'waiting' : 'skipped';
      await this.record(row.service, { buildId: candidate, state, reason: `${err.code}: ${err.message}`, deployment: null }, passedOver);
    }
  }

  /** The newest SUCCEEDED build on the service's branch (no branch override) newer than every build deployed or rolled back to. */
  private async candidate(service: string): Promise<number | null> {
    const [newest] = await this.db.query<{ id: unknown }>(
      `SELECT id FROM builds WHERE service = ? AND status = 'SUCCEEDED' AND branch_override_by IS NULL ORDER BY id DESC LIMIT 1`,
      [service],
    );
    if (!newest) return null;
    const [deployed] = await this.db.query<{ newest: unknown }>(`SELECT MAX(build_id) AS newest FROM deployments WHERE service = ?`, [service]);
    const id = Number(newest.id);
    return deployed?.newest !== null && deployed?.newest !== undefined && Number(deployed.newest) >= id ? null : id;
  }

  private async decide(service: string, buildId: number): Promise<Decision> {
    const build = await this.queue.get(buildId);
    const replication = await this.replication.forBuild(build);
    const missing = replication.regions.filter((r) => r.status !== 'DONE' || r.removedAt !== null).map((r) => r.region);
    if (missing.length > 0) return { state: 'waiting', reason: `waiting for the copies in ${missing.join(', ')}` };
    const [newest] = await this.deploys.list({ service, limit: 1 });
    if (newest && !isFinal(newest)) return { state: 'waiting', reason: `waiting for ${newest.id} (${newest.status}) to end` };
    const lock = await this.deploys.getLock(service);
    if (lock) return { state: 'waiting', reason: `the service is locked by ${lock.lockedBy} (${lock.reason})` };
    const active = await this.freezes.active(service);
    if (active.length > 0) return { state: 'waiting', reason: `FROZEN: ${frozenError(service, active).message}` };
    return { state: 'deploy' };
  }

  /** Records the outcome; a change is audited (and so announced) once. */
  private async record(service: string, state: sql.ContinuousState, passedOver: string | null): Promise<void> {
    const at = this.options.clock();
    if (!(await sql.recordContinuousState(this.db, service, state, at))) return;
    const build = formatBuildId(state.buildId);
    this.options.logger.info({ service, build, state: state.state, reason: state.reason }, 'continuous deploy');
    await this.deploys.record({
      at: new Date(),
      actor: continuousDeployActor,
      action: 'continuous-deploy',
      target: service,
      result: state.state === 'deployed' ? 'ok' : 'refused',
      detail: { build, state: state.state, reason: state.reason, deployment: state.deployment, ...(passedOver ? { passedOver } : {}) },
    });
  }
}
