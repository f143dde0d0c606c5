import fsp from 'node:fs/promises';
import { z } from 'zod';
import { FleetcastError } from '../../errors/index.ts';
import type { Logger } from '../../logging/index.ts';
import type { AgentLayout } from './agent-layout.ts';
import type { BuildCache, InstalledBuild } from './build-cache.ts';
import { CurrentLink } from './current-link.ts';
import { readJson, writeJsonDurably } from './durable-json.ts';
import { checkHealth, type HealthCheckOptions, type HealthResult } from './health-check.ts';
import type { ServiceRunner } from './service-runner.ts';

/** A switch in progress, on disk: an agent killed before the health check passed goes back to `previous`. */
const switchSchema = z.object({ build: z.string(), previous: z.string().nullable() });

export interface BuildSwitcherDeps {
  service: string;
  layout: AgentLayout;
  cache: BuildCache;
  runner: ServiceRunner;
  logger: Logger;
}

/**
 * Which build of one service runs on this machine: `current` and its process, the switch to a
 * new build with its health check, and the way back when the check fails (or when the agent
 * was killed mid-switch).
 */
export class BuildSwitcher {
  private currentBuild: InstalledBuild | null = null;
  private checking = false;
  private readonly link: CurrentLink;

  constructor(private readonly deps: BuildSwitcherDeps) {
    this.link = new CurrentLink(deps.layout.currentLink(deps.service));
  }

  /** The build `current` points at and runs, if any. */
  get current(): InstalledBuild | null {
    return this.currentBuild;
  }

  /** While a switch is checked, the health check speaks for the process (runner events are not the status). */
  get switching(): boolean {
    return this.checking;
  }

  /**
   * At agent start: what `current` points at keeps running (its process adopted, or started
   * again). A switch cut short goes back to the previous build first.
   */
  async restore(): Promise<InstalledBuild | null> {
    const { layout, cache, runner, service, logger } = this.deps;
    await fsp.mkdir(layout.buildsDir(service), { recursive: true });
    let build = await this.link.read();
    const pending = await readJson(layout.switchRecord(service), switchSchema);
    if (pending && build === pending.build) {
      // Killed during a switch, before the health check passed: back to the last known good
      // build. The goal switches again, with a health check this time.
      logger.warn({ build: pending.build, previous: pending.previous }, `the agent stopped while switching to ${pending.build}; going back to ${pending.previous ?? 'nothing'} until it is checked again`);
      if (pending.previous) await this.link.point(pending.previous);
      else await this.link.remove();
      build = pending.previous;
    }
    if (pending) await fsp.rm(layout.switchRecord(service), { force: true });
    this.currentBuild = build ? ((await cache.installed(service, build)) ?? null) : null;
    if (build && !this.currentBuild) {
      logger.error({ build }, `current points at ${build}, which is not a verified build; nothing runs until the goal is installed again`);
      await this.link.remove();
    }
    await runner.restore(this.currentBuild);
    if (this.currentBuild) logger.info({ build: this.currentBuild.goal.build }, `running ${this.currentBuild.goal.build} (as before the agent started)`);
    return this.currentBuild;
  }

  /**
   * Stops the running build, points `current` at `target`, starts it and checks its health.
   * Unhealthy: goes back to the previous build and throws HEALTH_CHECK_FAILED. Aborted (a newer
   * goal): throws the reason and leaves `target` current for the next switch to replace.
   */
  async switchTo(target: InstalledBuild, signal: AbortSignal, log: Logger, health: HealthCheckOptions): Promise<void> {
    this.checking = true;
    try {
      await this.switchChecked(target, this.currentBuild, signal, log, health);
    } finally {
      this.checking = false;
    }
  }

  private async switchChecked(target: InstalledBuild, previous: InstalledBuild | null, signal: AbortSignal, log: Logger, options: HealthCheckOptions): Promise<void> {
    const { layout, runner, service } = this.deps;
    const build = target.goal.build;
    await writeJsonDurably(layout.switchRecord(service), { build, previous: previous?.goal.build ?? null } satisfies z.infer<typeof switchSchema>);
    await runner.deactivate();
    await this.link.point(build);
    this.currentBuild = target;
    log.info({ previous: previous?.goal.build ?? null }, `switched ${service} to ${build}; checking its health`);
    let health: HealthResult;
    try {
      const activation = await runner.activate(target);
      health = await checkHealth({ build, exited: activation.exited, healthUrl: target.goal.healthUrl, lastLines: () => runner.lastLines(build) }, options, signal);
    } catch (err) {
      if (signal.aborted) {
        // A newer goal: it switches from here, with its own check.
        await fsp.rm(layout.switchRecord(service), { force: true });
        throw err;
      }
      health = { healthy: false, reason: (err as Error).message };
    }
    if (!health.healthy) {
      await this.revert(previous, log);
      await fsp.rm(layout.switchRecord(service), { force: true });
      throw new FleetcastError(
        'HEALTH_CHECK_FAILED',
        `${build} of ${service} failed its health check: ${health.reason}. Went back to ${previous ? previous.goal.build : 'nothing running'}; a new deploy (or rollback) tries again`,
        { build, previous: previous?.goal.build ?? null },
      );
    }
    await fsp.rm(layout.switchRecord(service), { force: true });
    this.currentBuild = await this.deps.cache.touch(target);
  }

  private async revert(previous: InstalledBuild | null, log: Logger): Promise<void> {
    const { runner } = this.deps;
    await runner.deactivate();
    if (!previous) {
      await this.link.remove();
      this.currentBuild = null;
      return;
    }
    await this.link.point(previous.goal.build);
    this.currentBuild = previous;
    try {
      await runner.activate(previous);
      log.warn({ previous: previous.goal.build }, `went back to ${previous.goal.build}`);
    } catch (err) {
      log.error({ err, previous: previous.goal.build }, `could not start ${previous.goal.build} again after the failed switch`);
    }
  }
}
