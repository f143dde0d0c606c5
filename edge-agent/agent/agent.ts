import fsp from 'node:fs/promises';
import { isFleetcastError, type FleetcastError } from '../../errors/index.ts';
import { servicePattern, type GoalUpdate, type StatusUpdate } from '../../goalstate/index.ts';
import type { Logger } from '../../logging/index.ts';
import type { ArtifactFetcher, RetainedBuild } from '../fetch/artifact-fetcher.ts';
import type { AgentLayout } from './agent-layout.ts';
import type { BuildCache, InstalledBuild } from './build-cache.ts';
import { ServiceReconciler, type ReconcilerOptions } from './service-reconciler.ts';
import type { ServiceRunner } from './service-runner.ts';
import type { StatusRelay } from './status-relay.ts';

export interface AgentDeps {
  region: string;
  machine: string;
  /** The services this agent runs (FLEETCAST_AGENT_SERVICES); undefined: every service with a goal in the region. */
  services: string[] | undefined;
  layout: AgentLayout;
  cache: BuildCache;
  fetcher: ArtifactFetcher;
  status: StatusRelay;
  /** One runner per service: supervising its run command, or calling the run hook. */
  runnerFor: (service: string) => ServiceRunner;
  logger: Logger;
}

/** What the agent says about one service now. */
export interface ServiceState {
  service: string;
  /** The build `current` points at (and runs), if any. */
  current: string | null;
  /** The region's goal build, once known. */
  goal: string | null;
  /** The last status report. */
  status: StatusUpdate | undefined;
}

/**
 * The edge agent of one machine: a ServiceReconciler per service it runs, fed by the region's
 * goal watch, reporting through one StatusRelay, sharing one build cache and one fetcher.
 */
export class Agent {
  private readonly reconcilers = new Map<string, ServiceReconciler>();
  private readonly filter: Set<string> | undefined;
  private retainQueued = false;
  private retaining: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(
    private readonly deps: AgentDeps,
    private readonly options: ReconcilerOptions,
  ) {
    this.filter = deps.services ? new Set(deps.services) : undefined;
  }

  /**
   * Restores every service found on disk (and every configured one): what ran keeps running,
   * before any goal or NATS connection exists.
   */
  async start(): Promise<void> {
    const onDisk = (await fsp.readdir(this.deps.layout.servicesDir).catch(() => [] as string[])).filter((name) => servicePattern.test(name));
    const services = new Set([...onDisk.filter((s) => !this.filter || this.filter.has(s)), ...(this.deps.services ?? [])]);
    await Promise.all([...services].map((service) => this.reconciler(service).start()));
    this.retain();
  }

  /** The goal watch's listener: quick (a fetch must not hold the watch), the work happens in the reconciler. */
  readonly onGoal = (update: GoalUpdate): void => {
    if (!this.follows(update.service)) return;
    this.reconciler(update.service).setGoal(update);
  };

  /** The prefetch listener of the same watch: a later wave's build, fetched ahead of its goal. */
  readonly onPrefetch = (update: GoalUpdate): void => {
    if (!this.follows(update.service)) return;
    this.reconciler(update.service).setPrefetch(update);
  };

  /**
   * A document the goal watch refused (malformed, not signed by a trusted key, changed since it
   * was signed, replayed): the service keeps its goal and its running build, and says so.
   */
  readonly onRefusedGoal = (error: FleetcastError): void => {
    const service = typeof error.details.service === 'string' ? error.details.service : undefined;
    if (!service || !servicePattern.test(service) || !this.follows(service)) {
      this.deps.logger.warn({ err: error }, error.message);
      return;
    }
    this.reconciler(service).noteRefusal(error, error.details.purpose === 'prefetch' ? 'prefetch' : 'goal');
  };

  /** Whether goals and hints of `service` are this agent's business now. */
  private follows(service: string): boolean {
    return !this.stopped && (!this.filter || this.filter.has(service));
  }

  services(): string[] {
    return [...this.reconcilers.keys()].sort();
  }

  state(service: string): ServiceState {
    const reconciler = this.reconcilers.get(service);
    return {
      service,
      current: reconciler?.currentBuild?.goal.build ?? null,
      goal: reconciler?.goalUpdate?.goal?.build ?? null,
      status: this.deps.status.last(service),
    };
  }

  /**
   * Stops every reconciler. `stopServices` false (an agent restart or upgrade) leaves the
   * services' processes running for the next agent to adopt; true stops them too.
   */
  async stop(options: { stopServices: boolean }): Promise<void> {
    this.stopped = true;
    await Promise.all([...this.reconcilers.values()].map((r) => r.stop(options)));
    await this.retaining;
  }

  private reconciler(service: string): ServiceReconciler {
    let reconciler = this.reconcilers.get(service);
    if (!reconciler) {
      reconciler = new ServiceReconciler(
        {
          service,
          machine: this.deps.machine,
          layout: this.deps.layout,
          cache: this.deps.cache,
          fetcher: this.deps.fetcher,
          runner: this.deps.runnerFor(service),
          status: this.deps.status,
          onCacheChanged: () => this.retain(),
          logger: this.deps.logger,
        },
        this.options,
      );
      this.reconcilers.set(service, reconciler);
      void reconciler.start().catch((err: unknown) => this.deps.logger.error({ err, service }, `could not restore ${service}: ${(err as Error).message}`));
    }
    return reconciler;
  }

  /** Tells the fetcher what this machine keeps (and can serve to peers); coalesced, one at a time. */
  private retain(): void {
    if (this.retainQueued) return;
    this.retainQueued = true;
    this.retaining = this.retaining.then(async () => {
      this.retainQueued = false;
      const kept: RetainedBuild[] = [];
      for (const service of this.reconcilers.keys()) {
        const builds: InstalledBuild[] = await this.deps.cache.verified(service).catch(() => []);
        for (const build of builds) kept.push({ goal: build.goal, file: build.file });
      }
      try {
        await this.deps.fetcher.retain(kept);
      } catch (err) {
        this.deps.logger.warn({ err, code: isFleetcastError(err) ? err.code : undefined }, 'the fetcher could not update the builds it keeps');
      }
    });
  }
}
