import { inspectGoalMirror, recreateGoalMirror, type MirrorInspection, type NatsConnection } from '../../goalstate/index.ts';
import { PeriodicTask } from '../../lifecycle/index.ts';
import type { Logger } from '../../logging/index.ts';
import type { MirrorState } from '../deploys/mirror-state.ts';

/** An audit row of a repair (the coordinator's DeployService writes it; spooled while SQL is down). */
export type MirrorRepairAudit = (row: { at: Date; actor: string; action: string; target: string; result: 'ok' | 'error'; detail: Record<string, unknown> }) => Promise<void>;

export interface MirrorCheckOptions {
  regions: string[];
  /** The hub connection, once there is one. */
  connection: () => NatsConnection | undefined;
  /** FLEETCAST_MIRROR_CHECK_EVERY. */
  everyMs: number;
  /** A mirror silent for longer is stalled. @defaultValue 3 checks, at least 30 s */
  stallAfterMs?: number;
  /** History of a recreated mirror. */
  mirrorHistory?: number;
  /** Copies of a recreated mirror (FLEETCAST_NATS_REPLICAS). @defaultValue 1 */
  replicas?: number;
  audit: MirrorRepairAudit;
  logger: Logger;
}

/** Problems a coordinator can repair: the stream is its to (re)create. A stalled or unreachable leaf needs a person. */
const repairable = new Set(['missing', 'not-a-mirror', 'diverged']);

/**
 * Checks every region's goal mirror each round (configuration, lag, and the documents against
 * the hub's) and repairs what it can: a mirror that is missing, that is not a mirror (deleted and
 * created again as a plain stream, which anyone with the leaf's credentials can write), or that
 * holds other documents than the hub once caught up, is deleted and created again as a mirror —
 * when the same problem is seen twice in a row, so a mirror being created or caught mid-change is
 * left alone. Status, metrics and Slack show the state; each repair is audited.
 */
export class MirrorCheck {
  private readonly states = new Map<string, MirrorState>();
  private readonly task: PeriodicTask;

  constructor(private readonly options: MirrorCheckOptions) {
    this.task = new PeriodicTask('checking the regions\' goal mirrors', options.everyMs, () => this.runOnce(), options.logger);
  }

  start(): void {
    this.task.start();
  }

  async stop(): Promise<void> {
    await this.task.stop();
  }

  state(region: string): MirrorState | null {
    return this.states.get(region) ?? null;
  }

  all(): MirrorState[] {
    return [...this.states.values()];
  }

  /** One round over every region. */
  async runOnce(): Promise<void> {
    const nc = this.options.connection();
    if (!nc || nc.isClosed()) return;
    const timeoutMs = Math.min(5_000, Math.max(1_000, this.options.everyMs));
    const stallAfterMs = this.options.stallAfterMs ?? Math.max(30_000, 3 * this.options.everyMs);
    await Promise.all(this.options.regions.map((region) => this.checkRegion(nc, region, { timeoutMs, stallAfterMs })));
  }

  private async checkRegion(nc: NatsConnection, region: string, options: { timeoutMs: number; stallAfterMs: number }): Promise<void> {
    const before = this.states.get(region);
    let seen: MirrorInspection;
    try {
      seen = await inspectGoalMirror(nc, region, options);
    } catch (err) {
      seen = { region, state: 'unreachable', problem: (err as Error).message, lag: null, lastActiveMs: null, diverged: [] };
    }
    const state: MirrorState = { ...seen, checkedAt: new Date().toISOString(), repairs: before?.repairs ?? 0, lastRepair: before?.lastRepair ?? null };
    this.states.set(region, state);
    if (seen.state === 'ok') {
      if (before && before.state !== 'ok') this.options.logger.info({ region }, `the goal mirror of ${region} is healthy again`);
      return;
    }
    if (before?.state !== seen.state) this.options.logger.error({ region, state: seen.state, diverged: seen.diverged }, `goal mirror of ${region}: ${seen.problem}`);
    if (repairable.has(seen.state) && before?.state === seen.state) await this.repair(nc, region, state, options.timeoutMs);
  }

  private async repair(nc: NatsConnection, region: string, state: MirrorState, timeoutMs: number): Promise<void> {
    const problem = `${state.state}: ${state.problem}`;
    const at = new Date();
    let error: Error | undefined;
    try {
      await recreateGoalMirror(nc, region, { timeoutMs, ...(this.options.mirrorHistory ? { history: this.options.mirrorHistory } : {}), ...(this.options.replicas ? { replicas: this.options.replicas } : {}) });
      this.options.logger.warn({ region, problem }, `recreated the goal mirror of ${region} as a mirror of the hub's goal bucket (${problem})`);
    } catch (err) {
      error = err as Error;
      this.options.logger.error({ err, region, problem }, `could not repair the goal mirror of ${region}: ${error.message}`);
    }
    state.repairs++;
    state.lastRepair = { at: at.toISOString(), problem, ok: error === undefined };
    await this.options
      .audit({
        at,
        actor: 'coordinator',
        action: 'mirror-repair',
        target: `goal-${region}`,
        result: error ? 'error' : 'ok',
        detail: { region, state: state.state, problem: state.problem, diverged: state.diverged, ...(error ? { error: error.message } : {}) },
      })
      .catch((err: unknown) => this.options.logger.error({ err, region }, 'could not audit the repair of a goal mirror'));
  }
}
