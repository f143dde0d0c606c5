import fsp from 'node:fs/promises';
import { z } from 'zod';
import { digestMismatch } from '../../blobstore/index.ts';
import { formatBytes, humanDuration } from '../../config/index.ts';
import { FleetcastError, isFleetcastError } from '../../errors/index.ts';
import { liveHint, refusalCodes, type GoalContent, type GoalPurpose, type GoalUpdate, type Refusal, type RefusalCode, type StatusUpdate } from '../../goalstate/index.ts';
import { backoffDelay } from '../../lifecycle/index.ts';
import type { Logger } from '../../logging/index.ts';
import type { ArtifactFetcher } from '../fetch/artifact-fetcher.ts';
import type { AgentLayout } from './agent-layout.ts';
import type { BuildCache, InstalledBuild } from './build-cache.ts';
import { CurrentLink } from './current-link.ts';
import { readJson, writeJsonDurably } from './durable-json.ts';
import { checkHealth, type HealthCheckOptions, type HealthResult } from './health-check.ts';
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
  layout: AgentLayout;
  cache: BuildCache;
  fetcher: ArtifactFetcher;
  runner: ServiceRunner;
  status: StatusSink;
  /** The verified builds changed (install, GC): the fetcher's retained set is recomputed. */
  onCacheChanged: () => void;
  logger: Logger;
}

/** The longest refusal message a status report carries (the report's size is bounded). */
const maxRefusalMessage = 600;

/** A switch in progress, on disk: an agent killed before the health check passed goes back to `previous`. */
const switchSchema = z.object({ build: z.string(), previous: z.string().nullable() });

interface Failure {
  revision: number;
  attempts: number;
  retryAt: number;
}

/**
 * Brings one service on this machine to its goal, level-triggered: at start and on every goal
 * it compares the goal with what is installed and running, and does what is missing —
 * fetch, verify, install, switch, health-check, or nothing. One pass at a time; a goal for
 * another build aborts the pass in progress (a partial download stays for later). A failed
 * goal is retried after a doubling pause; a new goal is tried at once.
 */
export class ServiceReconciler {
  readonly service: string;
  private goal: GoalUpdate | undefined;
  private current: InstalledBuild | null = null;
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
  private readonly link: CurrentLink;
  private readonly logger: Logger;

  constructor(
    private readonly deps: ReconcilerDeps,
    private readonly options: ReconcilerOptions,
  ) {
    this.service = deps.service;
    this.link = new CurrentLink(deps.layout.currentLink(deps.service));
    this.logger = deps.logger.child({ service: deps.service });
    deps.runner.watch((event) => this.onRunnerEvent(event));
  }

  /** The build `current` points at and runs, if any. */
  get currentBuild(): InstalledBuild | null {
    return this.current;
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
    await this.deps.runner.close(options);
  }

  private lastReport: StatusUpdate | undefined;
  /** While a switch is checked, the health check speaks for the process. */
  private switching = false;

  private onRunnerEvent(event: RunnerEvent): void {
    if (this.switching || this.stopped || this.current?.goal.build !== event.build) return;
    if (event.type === 'exited') {
      this.report({ build: event.build, state: 'failed', error: `the process of ${event.build} ${event.description}; restarting in ${humanDuration(event.restartInMs)}` });
    } else {
      this.report({ build: event.build, state: 'running', error: `restarted ${event.restarts} ${event.restarts === 1 ? 'time' : 'times'}; last: ${event.lastExit}` });
    }
  }

  /**
   * Sends a state with what proves it: for `running`, the digest of the build that runs (verified
   * when it was installed) and the sequence of the signed goal it was applied from — the
   * coordinator counts a machine as running its goal only when both match what it signed.
   */
  private report(update: StatusUpdate): void {
    this.lastReport = update;
    const goal = this.goal?.goal;
    const running = update.state === 'running' && this.current !== null && update.build === this.current.goal.build;
    const seq = running ? (this.applied?.build === update.build ? this.applied.seq : null) : goal && goal.build === update.build ? goal.seq : null;
    this.deps.status.report(this.service, { ...update, digest: running ? this.current!.goal.digest : null, seq, refusal: this.refusal, refusals: this.refusals });
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
    const { layout, cache, runner } = this.deps;
    await fsp.mkdir(layout.buildsDir(this.service), { recursive: true });
    let build = await this.link.read();
    const pending = await readJson(layout.switchRecord(this.service), switchSchema);
    if (pending && build === pending.build) {
      // Killed during a switch, before the health check passed: back to the last known good
      // build. The goal switches again, with a health check this time.
      this.logger.warn({ build: pending.build, previous: pending.previous }, `the agent stopped while switching to ${pending.build}; going back to ${pending.previous ?? 'nothing'} until it is checked again`);
      if (pending.previous) await this.link.point(pending.previous);
      else await this.link.remove();
      build = pending.previous;
    }
    if (pending) await fsp.rm(layout.switchRecord(this.service), { force: true });
    this.current = build ? ((await cache.installed(this.service, build)) ?? null) : null;
    if (build && !this.current) {
      this.logger.error({ build }, `current points at ${build}, which is not a verified build; nothing runs until the goal is installed again`);
      await this.link.remove();
    }
    await runner.restore(this.current);
    if (this.current) this.logger.info({ build: this.current.goal.build }, `running ${this.current.goal.build} (as before the agent started)`);
    // No cache upkeep here: the goal is not known yet, and a half-downloaded goal build must stay.
    this.report(this.current ? { build: this.current.goal.build, state: 'running' } : { build: null, state: 'idle' });
  }

  private async reconcile(): Promise<void> {
    await this.reconcileGoal();
    const goal = this.goal?.goal;
    if (!this.stopped && (!goal || this.current?.goal.build === goal.build)) await this.prefetch();
  }

  private async reconcileGoal(): Promise<void> {
    const update = this.goal;
    const goal = update?.goal;
    if (!update || !goal) {
      // No goal (or a deleted one): what runs keeps running; nothing is removed on a whim.
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
        await this.collect(null);
        return;
      }
      const cached = await this.deps.cache.installedFor(goal, false);
      if (cached) log.info(`${goal.build} is in the cache: switching without a transfer`);
      const installed = cached ?? (await this.download(goal, controller.signal, log, { report: (u) => this.report(u), mayEmptyCache: true }));
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
    const update = this.hint;
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
        if (this.goal?.goal?.build === hint.build) this.report(u);
      };
      await this.download(hint, controller.signal, log, { report, mayEmptyCache: false });
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
    return liveHint(this.hint, this.goal?.goal?.seq);
  }

  /**
   * Fetches, verifies and installs a build into the cache. `report` takes the progress;
   * `mayEmptyCache`: a download that does not fit may remove every unprotected cached build.
   */
  private async download(goal: GoalContent, signal: AbortSignal, log: Logger, options: { report: (update: StatusUpdate) => void; mayEmptyCache: boolean }): Promise<InstalledBuild> {
    const { layout, cache, fetcher } = this.deps;
    const { report } = options;
    await fsp.mkdir(layout.buildDir(this.service, goal.build), { recursive: true });
    const partial = layout.partial(this.service, goal.build);
    const have = (await fsp.stat(partial).catch(() => undefined))?.size ?? 0;
    await this.ensureSpace(goal, goal.size - Math.min(have, goal.size), options.mayEmptyCache);
    report({ build: goal.build, state: 'downloading', bytes: have, total: goal.size });
    let result;
    try {
      result = await fetcher.fetch({
        goal,
        destination: partial,
        signal,
        onProgress: (p) => report({ build: goal.build, state: 'downloading', bytes: p.bytes, total: p.total, peers: p.peers, error: p.note ?? null }),
      });
    } catch (err) {
      // Aborted: the bytes stay for the next try. Wrong bytes or a full disk: they go (a full
      // disk hurts the running service too).
      if (!signal.aborted && (isFleetcastError(err, 'DIGEST_MISMATCH') || isFleetcastError(err, 'DISK_FULL'))) await fsp.rm(partial, { force: true });
      throw err;
    }
    report({ build: goal.build, state: 'verifying', bytes: goal.size, total: goal.size });
    const size = (await fsp.stat(partial)).size;
    if (result.sha256 !== goal.digest || size !== goal.size) {
      await fsp.rm(partial, { force: true });
      throw digestMismatch(`download of ${goal.build} of ${this.service}`, { sha256: goal.digest, size: goal.size }, { sha256: result.sha256, size }, 'the bytes fetched are not the build; they were discarded, the running build is untouched, and the agent fetches again');
    }
    const installed = await cache.install(goal, partial, { fromPeers: result.bytesFromPeers, fromBucket: result.bytesFromBucket });
    log.info({ bytesFromPeers: result.bytesFromPeers, bytesFromBucket: result.bytesFromBucket, size: goal.size }, `installed ${goal.build} (verified sha256)`);
    this.deps.onCacheChanged();
    return installed;
  }

  /**
   * Frees cached builds if the download would not fit (every unprotected one if `mayEmptyCache`);
   * fails with DISK_FULL before writing a byte if it still does not.
   */
  private async ensureSpace(goal: GoalContent, needed: number, mayEmptyCache: boolean): Promise<void> {
    const { cache, layout } = this.deps;
    if ((await cache.freeBytes()) >= needed + this.options.minFreeBytes) return;
    await this.collect(goal.build);
    if ((await cache.freeBytes()) >= needed) return;
    if (mayEmptyCache) await this.collect(goal.build, { aggressive: true });
    const free = await cache.freeBytes();
    if (free >= needed) return;
    throw new FleetcastError(
      'DISK_FULL',
      `not enough disk for ${goal.build} of ${this.service}: ${formatBytes(needed)} still to fetch, ${formatBytes(free)} free in ${layout.root} after removing cached builds; free space there (or lower FLEETCAST_AGENT_CACHE_BUILDS). The running build is untouched; the agent tries again`,
      { build: goal.build, needed, free, dir: layout.root },
    );
  }

  private async switchTo(target: InstalledBuild, seq: number, signal: AbortSignal, log: Logger): Promise<void> {
    const build = target.goal.build;
    const previous = this.current;
    const previousApplied = this.applied;
    this.report({ build, state: 'installing', bytes: target.goal.size, total: target.goal.size });
    this.switching = true;
    try {
      this.applied = { build, seq };
      await this.switchChecked(target, previous, signal, log);
    } catch (err) {
      // Back on the previous build (or on nothing): it runs under the goal it was applied from.
      this.applied = previous && previousApplied?.build === previous.goal.build ? previousApplied : null;
      throw err;
    } finally {
      this.switching = false;
    }
    log.info(`${build} is healthy and running`);
    this.report({ build, state: 'running' });
    await this.collect(build);
  }

  private async switchChecked(target: InstalledBuild, previous: InstalledBuild | null, signal: AbortSignal, log: Logger): Promise<void> {
    const { layout, runner } = this.deps;
    const build = target.goal.build;
    await writeJsonDurably(layout.switchRecord(this.service), { build, previous: previous?.goal.build ?? null } satisfies z.infer<typeof switchSchema>);
    await runner.deactivate();
    await this.link.point(build);
    this.current = target;
    log.info({ previous: previous?.goal.build ?? null }, `switched ${this.service} to ${build}; checking its health`);
    let health: HealthResult;
    try {
      const activation = await runner.activate(target);
      health = await checkHealth({ build, exited: activation.exited, healthUrl: target.goal.healthUrl, lastLines: () => runner.lastLines(build) }, this.options.health, signal);
    } catch (err) {
      if (signal.aborted) {
        // A newer goal: it switches from here, with its own check.
        await fsp.rm(layout.switchRecord(this.service), { force: true });
        throw err;
      }
      health = { healthy: false, reason: (err as Error).message };
    }
    if (!health.healthy) {
      await this.revert(previous, log);
      await fsp.rm(layout.switchRecord(this.service), { force: true });
      throw new FleetcastError(
        'HEALTH_CHECK_FAILED',
        `${build} of ${this.service} failed its health check: ${health.reason}. Went back to ${previous ? previous.goal.build : 'nothing running'}; a new deploy (or rollback) tries again`,
        { build, previous: previous?.goal.build ?? null },
      );
    }
    await fsp.rm(layout.switchRecord(this.service), { force: true });
    this.current = await this.deps.cache.touch(target);
  }

  private async revert(previous: InstalledBuild | null, log: Logger): Promise<void> {
    const { runner } = this.deps;
    await runner.deactivate();
    if (!previous) {
      await this.link.remove();
      this.current = null;
      return;
    }
    await this.link.point(previous.goal.build);
    this.current = previous;
    try {
      await runner.activate(previous);
      log.warn({ previous: previous.goal.build }, `went back to ${previous.goal.build}`);
    } catch (err) {
      log.error({ err, previous: previous.goal.build }, `could not start ${previous.goal.build} again after the failed switch`);
    }
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

  /**
   * Cache upkeep: keeps the running build, the goal's, a prefetch hint's newer than the goal and
   * `extra`, then the most recent up to FLEETCAST_AGENT_CACHE_BUILDS; below the free-disk
   * watermark it removes more. `aggressive` (a goal's download that does not fit) removes every
   * cached build that is not the running one, the goal's or `extra`.
   */
  private async collect(extra: string | null, options: { aggressive?: boolean } = {}): Promise<void> {
    const protect = new Set<string>();
    if (this.current) protect.add(this.current.goal.build);
    if (this.goal?.goal) protect.add(this.goal.goal.build);
    const hint = this.followedHint();
    if (hint && !options.aggressive) protect.add(hint.build);
    if (extra) protect.add(extra);
    try {
      const removed = await this.deps.cache.collect(this.service, {
        protect,
        keep: options.aggressive ? 0 : this.options.cacheBuilds,
        minFreeBytes: this.options.minFreeBytes,
      });
      if (removed.length > 0) this.deps.onCacheChanged();
    } catch (err) {
      this.logger.warn({ err }, `could not remove cached builds of ${this.service}`);
    }
  }
}
