import { digestMismatch } from '../../blobstore/index.ts';
import { humanDuration } from '../../config/index.ts';
import { FleetcastError, isFleetcastError } from '../../errors/index.ts';
import { inShare, liveHint, refusalCodes, type GoalContent, type GoalPurpose, type GoalUpdate, type Refusal, type RefusalCode, type StatusUpdate } from '../../goalstate/index.ts';
import { backoffDelay } from '../../lifecycle/index.ts';
import type { Logger } from '../../logging/index.ts';
import type { ArtifactFetcher } from '../fetch/artifact-fetcher.ts';
import type { AgentLayout } from './agent-layout.ts';
import type { BuildCache, InstalledBuild } from './build-cache.ts';
import { BuildInstaller } from './build-installer.ts';
import { BuildSwitcher } from './build-switcher.ts';
import type { HealthCheckOptions } from './health-check.ts';
import type { RunnerEvent, ServiceRunner } from './service-runner.ts';
import type { StatusSink } from './status-relay.ts';

export interface ReconcilerOptions {
  /** FLEETCAST_AGENT_CACHE_BUILDS. */
  cacheBuilds: number;
  /** FLEETCAST_AGENT_MIN_FREE_DISK. */
  minFreeBytes: number;
  health: HealthCheckOptions;
  /** First pause before trying a goal that failed again; doubles per failure of the same goal. @defaultValue 5_000 */
  retryMinMs?: number;
  /** @defaultValue 300_000 */
  retryMaxMs?: number;
}

export interface ReconcilerDeps {
  service: string;
  /** This machine's id: whether it is in a canary share of its region (inShare) depends on it. */
  machine: string;
  layout: AgentLayout;
  cache: BuildCache;
  fetcher: ArtifactFetcher;
  runner: ServiceRunner;
  status: StatusSink;
  /** The verified builds changed (install, GC): the fetcher's retained set is recomputed. */
  onCacheChanged: () => void;
  logger: Logger;
}

interface Failure {
  revision: number;
  attempts: number;
  retryAt: number;
}

/**
 * Brings one service on this machine to its goal, level-triggered: at start and on every goal
 * it compares the goal with what is installed and running, and does what is missing —
 * fetch, verify and install (BuildInstaller), switch, health-check, revert (BuildSwitcher), or
 * nothing — and reports each state. One pass at a time; a goal for another build aborts the pass
 * in progress (a partial download stays for later). A failed goal is retried after a doubling
 * pause; a new goal is tried at once. A prefetch hint is fetched into the cache once the service
 * is at its goal, retried on its own pause.
 */
/** The longest refusal message a status report carries (the report's size is bounded). */
const maxRefusalMessage = 600;

export class ServiceReconciler {
  readonly service: string;
  private goal: GoalUpdate | undefined;
  private restored: Promise<void> | undefined;
  private loop: Promise<void> | undefined;
  private dirty = false;
  private pass: { build: string; controller: AbortController; prefetch: boolean } | undefined;
  private failure: Failure | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private hint: GoalUpdate | undefined;
  private hintFailure: Failure | undefined;
  private hintRetryTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  /** The build `current` runs and the sequence of the signed goal it was applied from (null until a goal naming it is seen). */
  private applied: { build: string; seq: number } | null = null;
  /** The last document refused (signature, replay, malformed) while no accepted one came since; reported with every state. */
  private refusal: Refusal | null = null;
  private refusals = 0;
  /** The builds verified in the cache, most recently used first: every report lists them (what the machine holds). */
  private cached: string[] = [];
  private cachedRefresh: Promise<void> | undefined;
  private cachedStale = false;
  private readonly logger: Logger;
  private readonly installer: BuildInstaller;
  private readonly switcher: BuildSwitcher;

  constructor(
    private readonly deps: ReconcilerDeps,
    private readonly options: ReconcilerOptions,
  ) {
    this.service = deps.service;
    this.logger = deps.logger.child({ service: deps.service });
    this.switcher = new BuildSwitcher({ service: deps.service, layout: deps.layout, cache: deps.cache, runner: deps.runner, logger: this.logger });
    this.installer = new BuildInstaller(
      {
        service: deps.service,
        layout: deps.layout,
        cache: deps.cache,
        fetcher: deps.fetcher,
        protectedBuilds: (o) => this.protectedBuilds(o),
        onCacheChanged: () => {
          deps.onCacheChanged();
          this.refreshCached();
        },
        logger: this.logger,
      },
      { cacheBuilds: options.cacheBuilds, minFreeBytes: options.minFreeBytes },
    );
    deps.runner.watch((event) => this.onRunnerEvent(event));
  }

  /** The build `current` points at and runs, if any. */
  get currentBuild(): InstalledBuild | null {
    return this.switcher.current;
  }

  private get current(): InstalledBuild | null {
    return this.switcher.current;
  }

  get goalUpdate(): GoalUpdate | undefined {
    return this.goal;
  }

  /**
   * At agent start, before any goal is known: what `current` points at keeps running (its
   * process adopted, or started again), so a region whose leaf is down still runs its builds.
   */
  start(): Promise<void> {
    this.restored ??= this.restore();
    return this.restored;
  }

  /** The region's goal for this service changed (or was delivered again). Only signed, accepted goals come here (GoalWatch). */
  setGoal(update: GoalUpdate): void {
    const previous = this.goal;
    this.goal = update;
    this.clearRefusal();
    if (previous?.revision !== update.revision) this.clearFailure();
    // Superseded: a pass for another build stops; one for the same build goes on (and keeps its bytes).
    if (this.pass && update.goal && update.goal.build !== this.pass.build) {
      this.logger.info({ build: this.pass.build, goalBuild: update.goal.build }, `goal changed to ${update.goal.build}; stopping the work on ${this.pass.build}`);
      this.pass.controller.abort(new FleetcastError('CANCELLED', `superseded by a goal for ${update.goal.build}`));
    }
    this.kick();
  }

  /**
   * The region's prefetch hint for this service changed: the build a later wave of a deployment
   * brings here, fetched into the cache once the service is at its goal (see prefetch()).
   */
  setPrefetch(update: GoalUpdate): void {
    this.hint = update;
    this.clearRefusal();
    if (this.pass?.prefetch && update.goal?.build !== this.pass.build) {
      this.pass.controller.abort(new FleetcastError('CANCELLED', `the prefetch hint now names ${update.goal?.build ?? 'no build'}`));
    }
    this.kick();
  }

  /**
   * A document was refused (malformed, not signed by a trusted key, changed since it was signed,
   * or an old one replayed): nothing is fetched, installed or run for it, the service keeps its
   * goal and its running build, and every report says so until an accepted document comes.
   */
  noteRefusal(error: FleetcastError, purpose: GoalPurpose): void {
    const code: RefusalCode = (refusalCodes as readonly string[]).includes(error.code) ? (error.code as RefusalCode) : 'GOAL_INVALID';
    const message = error.message.length <= maxRefusalMessage ? error.message : `${error.message.slice(0, maxRefusalMessage - 1)}…`;
    this.refusal = { code, message, purpose, at: new Date().toISOString() };
    this.refusals++;
    this.logger.warn({ err: error, code, purpose, refusals: this.refusals }, error.message);
    this.resend();
  }

  private clearRefusal(): void {
    if (!this.refusal) return;
    this.logger.info({ code: this.refusal.code }, `the region's ${this.refusal.purpose === 'goal' ? 'goal' : 'prefetch hint'} of ${this.service} is a signed document again`);
    this.refusal = null;
    this.resend();
  }

  /** The last state again, with what changed besides it (a refusal). */
  private resend(): void {
    this.report(this.lastReport ?? (this.current ? { build: this.current.goal.build, state: 'running' } : { build: null, state: 'idle' }));
  }

  async stop(options: { stopServices: boolean }): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    clearTimeout(this.hintRetryTimer);
    this.pass?.controller.abort(new FleetcastError('CANCELLED', 'the agent is stopping'));
    await this.restored?.catch(() => undefined);
    await this.loop;
    await this.cachedRefresh;
    await this.deps.runner.close(options);
  }

  private lastReport: StatusUpdate | undefined;

  private onRunnerEvent(event: RunnerEvent): void {
    if (this.switcher.switching || this.stopped || this.current?.goal.build !== event.build) return;
    if (event.type === 'exited') {
      this.report({ build: event.build, state: 'failed', error: `the process of ${event.build} ${event.description}; restarting in ${humanDuration(event.restartInMs)}` });
    } else {
      this.report({ build: event.build, state: 'running', error: `restarted ${event.restarts} ${event.restarts === 1 ? 'time' : 'times'}; last: ${event.lastExit}` });
    }
  }

  /**
   * Sends a state with what proves it: for `running`, the digest of the build that runs (verified
   * when it was installed) and the sequence of the signed goal it was applied from — the
   * coordinator counts a machine as running its goal only when both match what it signed. Once a
   * build runs (or failed running), the report also says where its output is.
   */
  private report(update: StatusUpdate): void {
    this.lastReport = update;
    const goal = this.goal?.goal;
    const running = update.state === 'running' && this.current !== null && update.build === this.current.goal.build;
    const seq = running ? (this.applied?.build === update.build ? this.applied.seq : null) : goal && goal.build === update.build ? goal.seq : null;
    const log = update.build && (update.state === 'running' || update.state === 'failed') ? this.deps.runner.logLocation(update.build) : undefined;
    this.deps.status.report(this.service, { ...update, ...(log ? { log } : {}), digest: running ? this.current!.goal.digest : null, seq, refusal: this.refusal, refusals: this.refusals, cached: this.cached });
  }

  /** Reads again which builds the cache holds verified and, if that changed, says so; coalesced, one read at a time. */
  private refreshCached(): void {
    this.cachedStale = true;
    this.cachedRefresh ??= (async () => {
      try {
        while (this.cachedStale && !this.stopped) {
          this.cachedStale = false;
          const builds = (await this.deps.cache.verified(this.service).catch(() => [])).map((b) => b.goal.build);
          if (this.stopped || builds.join(',') === this.cached.join(',')) continue;
          this.cached = builds;
          if (this.lastReport) this.resend();
        }
      } finally {
        this.cachedRefresh = undefined;
      }
    })();
  }

  private kick(): void {
    this.dirty = true;
    this.loop ??= this.drain();
  }

  private async drain(): Promise<void> {
    try {
      await this.start();
      while (this.dirty && !this.stopped) {
        this.dirty = false;
        await this.reconcile();
      }
    } finally {
      this.loop = undefined;
    }
  }

  private async restore(): Promise<void> {
    const current = await this.switcher.restore();
    this.cached = (await this.deps.cache.verified(this.service).catch(() => [])).map((b) => b.goal.build);
    // No cache upkeep here: the goal is not known yet, and a half-downloaded goal build must stay.
    this.report(current ? { build: current.goal.build, state: 'running' } : { build: null, state: 'idle' });
  }

  private async reconcile(): Promise<void> {
    await this.reconcileGoal();
    const goal = this.goal?.goal;
    if (!this.stopped && (!goal || this.current?.goal.build === goal.build || this.outsideShare(goal))) await this.prefetch();
  }

  /**
   * The goal is a canary of a share of the region that leaves this machine out (decided from the
   * signed goal: a hash of service and machine id, as the coordinator counts it). A machine that
   * already runs the goal's build takes it, whatever the share: nothing changes for it.
   */
  private outsideShare(goal: GoalContent): boolean {
    return goal.canary !== undefined && this.current?.goal.build !== goal.build && !inShare(this.service, this.deps.machine, goal.canary.share);
  }

  private async reconcileGoal(): Promise<void> {
    const update = this.goal;
    const goal = update?.goal;
    if (!update || !goal) {
      // No goal (or a deleted one): what runs keeps running; nothing is removed on a whim.
      this.report(this.current ? { build: this.current.goal.build, state: 'running' } : { build: null, state: 'idle' });
      return;
    }
    if (this.outsideShare(goal)) {
      // A canary of a share of the region, and this machine is not in it: what runs keeps running
      // (its build comes with a later wave; reconcile() fetches it into the cache meanwhile).
      this.clearFailure();
      this.report(this.current ? { build: this.current.goal.build, state: 'running' } : { build: null, state: 'idle' });
      return;
    }
    if (this.failure && this.failure.revision === update.revision && Date.now() < this.failure.retryAt) return;
    const controller = new AbortController();
    this.pass = { build: goal.build, controller, prefetch: false };
    const log = this.logger.child({ build: goal.build, deployment: goal.deployment });
    try {
      if (this.current?.goal.build === goal.build) {
        if (this.current.goal.digest !== goal.digest) {
          throw digestMismatch(`running ${goal.build} of ${this.service}`, { sha256: goal.digest }, { sha256: this.current.goal.digest, size: this.current.goal.size }, 'the goal names another artifact under the running build id; it keeps running — deploy a new build');
        }
        this.clearFailure();
        this.applied = { build: goal.build, seq: goal.seq };
        this.report({ build: goal.build, state: 'running' });
        await this.installer.collect(null);
        return;
      }
      const cached = await this.deps.cache.installedFor(goal, false);
      if (cached) log.info(`${goal.build} is in the cache: switching without a transfer`);
      const installed = cached ?? (await this.installer.download(goal, controller.signal, log, { report: (u) => this.report(u), mayEmptyCache: true }));
      await this.switchTo({ ...installed, goal }, goal.seq, controller.signal, log);
      this.clearFailure();
    } catch (err) {
      if (this.stopped) return;
      if (controller.signal.aborted) {
        log.info(`stopped working on ${goal.build}: ${(controller.signal.reason as Error)?.message}`);
        return;
      }
      this.fail(update, goal, err, log);
    } finally {
      this.pass = undefined;
    }
  }

  /**
   * While the service is at its goal: fetches the hinted build into the cache, so that its goal,
   * when the wave comes, switches without a transfer. Nothing runs; the status still
   * speaks of the goal (until the hinted build becomes it); a failure is logged and tried again
   * after a doubling pause, never reported as the service's.
   */
  private async prefetch(): Promise<void> {
    const goal = this.goal?.goal;
    // Outside a canary share the goal itself is fetched ahead, as a hint: its build comes with the next wave.
    const update = goal && this.outsideShare(goal) ? this.goal : this.hint;
    const hint = this.followedHint();
    if (!update || !hint || hint.build === this.current?.goal.build) return;
    if (this.hintFailure?.revision === update.revision && Date.now() < this.hintFailure.retryAt) return;
    if (await this.deps.cache.installedFor(hint, false)) return;
    const controller = new AbortController();
    this.pass = { build: hint.build, controller, prefetch: true };
    const log = this.logger.child({ build: hint.build, deployment: hint.deployment, prefetch: true });
    log.info(`prefetching ${hint.build} for a later wave of ${hint.deployment}`);
    try {
      // Progress is reported only once the hinted build is the goal (its wave came mid-fetch).
      const report = (u: StatusUpdate) => {
        const now = this.goal?.goal;
        if (now?.build === hint.build && !this.outsideShare(now)) this.report(u);
      };
      await this.installer.download(hint, controller.signal, log, { report, mayEmptyCache: false });
      this.hintFailure = undefined;
    } catch (err) {
      if (this.stopped) return;
      if (controller.signal.aborted) {
        log.info(`stopped prefetching ${hint.build}: ${(controller.signal.reason as Error)?.message}`);
        return;
      }
      this.hintFailure = this.nextFailure(this.hintFailure, update.revision);
      clearTimeout(this.hintRetryTimer);
      this.hintRetryTimer = setTimeout(() => this.kick(), this.hintFailure.retryAt - Date.now());
      this.hintRetryTimer.unref();
      log.warn({ err, code: isFleetcastError(err) ? err.code : undefined, attempts: this.hintFailure.attempts }, `prefetching ${hint.build} failed (${(err as Error).message}); the service is untouched, trying again in ${humanDuration(this.hintFailure.retryAt - Date.now())}`);
    } finally {
      this.pass = undefined;
    }
  }

  private followedHint(): GoalContent | undefined {
    const goal = this.goal?.goal;
    if (goal && this.outsideShare(goal)) return goal;
    return liveHint(this.hint, goal?.seq);
  }

  private async switchTo(target: InstalledBuild, seq: number, signal: AbortSignal, log: Logger): Promise<void> {
    const build = target.goal.build;
    const previous = this.current;
    const previousApplied = this.applied;
    this.report({ build, state: 'installing', bytes: target.goal.size, total: target.goal.size });
    this.applied = { build, seq };
    try {
      await this.switcher.switchTo(target, signal, log, this.options.health);
    } catch (err) {
      // Back on the previous build (or on nothing): it runs under the goal it was applied from.
      this.applied = previous && previousApplied?.build === previous.goal.build ? previousApplied : null;
      throw err;
    }
    log.info(`${build} is healthy and running`);
    this.report({ build, state: 'running' });
    await this.installer.collect(build);
    // The build just switched to is now the most recently used.
    this.refreshCached();
  }

  private fail(update: GoalUpdate, goal: GoalContent, err: unknown, log: Logger): void {
    const error = isFleetcastError(err) ? err : new FleetcastError('INTERNAL', `unexpected failure while bringing ${this.service} to ${goal.build}: ${(err as Error)?.stack ?? String(err)}`);
    this.failure = this.nextFailure(this.failure, update.revision);
    const { attempts } = this.failure;
    const delay = this.failure.retryAt - Date.now();
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => this.kick(), delay);
    this.retryTimer.unref();
    log.warn({ err: error, code: error.code, attempts, retryInMs: delay }, error.message);
    this.report({ build: goal.build, state: 'failed', error: `${error.message} (attempt ${attempts}; next in ${humanDuration(delay)})` });
  }

  /** Another failure at `revision`: the pause before the next try doubles per failure of the same revision. */
  private nextFailure(last: Failure | undefined, revision: number): Failure {
    const attempts = last?.revision === revision ? last.attempts + 1 : 1;
    const delay = backoffDelay(attempts, { initialMs: this.options.retryMinMs ?? 5_000, maxMs: this.options.retryMaxMs ?? 300_000 });
    return { revision, attempts, retryAt: Date.now() + delay };
  }

  private clearFailure(): void {
    this.failure = undefined;
    clearTimeout(this.retryTimer);
  }

  /** What cache upkeep keeps: the running build, the goal's, and (unless aggressive) a followed hint's. */
  private protectedBuilds(options: { aggressive: boolean }): Set<string> {
    const protect = new Set<string>();
    if (this.current) protect.add(this.current.goal.build);
    if (this.goal?.goal) protect.add(this.goal.goal.build);
    const hint = this.followedHint();
    if (hint && !options.aggressive) protect.add(hint.build);
    return protect;
  }
}
