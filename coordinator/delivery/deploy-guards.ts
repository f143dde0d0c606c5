import type { Database } from '../../entities/index.ts';
import { FleetcastError } from '../../errors/index.ts';
import type { Logger } from '../../logging/index.ts';
import { formatBuildId, type Build } from '../../queue/index.ts';
import type { ServiceRegistry } from '../../queue/services/index.ts';
import { parseDeploymentId, type DeployGuard, type GuardPass, type GuardRequest } from '../deploys/index.ts';
import type { Clock } from './clock.ts';
import * as sql from './delivery-sql.ts';
import { frozenError, type FreezeBook } from './freeze-book.ts';
import type { PredeployCheck } from './predeploy-check.ts';

export interface DeliveryGuardOptions {
  /** FLEETCAST_CHECK_TIMEOUT: a check without its own timeout fails after this long. */
  checkTimeoutMs: number;
  clock: Clock;
  logger: Logger;
}

/**
 * What every deploy (API, CLI, Slack, continuous deploy) passes before its goal is written: no
 * freeze window on for the service (unless an admin overrides it, audited with the reason), then
 * the service's pre-deploy check, whose run is kept in SQL with its output and tied to the
 * deployment it let through.
 */
export class DeliveryGuard implements DeployGuard {
  constructor(
    private readonly db: Database,
    private readonly services: Pick<ServiceRegistry, 'get'>,
    private readonly freezes: FreezeBook,
    private readonly checker: PredeployCheck,
    private readonly options: DeliveryGuardOptions,
  ) {}

  async admit(build: Build, request: GuardRequest): Promise<GuardPass> {
    const detail: Record<string, unknown> = {};
    const active = await this.freezes.active(build.service);
    if (active.length > 0) {
      if (request.overrideFreeze === undefined) throw frozenError(build.service, active);
      detail.frozenOverridden = active.map((a) => a.window.id);
      this.options.logger.warn({ service: build.service, build: formatBuildId(build.id), by: request.by, freezes: detail.frozenOverridden }, 'deploy inside a freeze window, overridden');
    }
    const runId = await this.check(build, request.by, detail);
    return {
      detail,
      started: async (deploymentId) => {
        if (runId === null) return;
        // The goal is written by now: a failure to link the run must not turn the deploy into an error.
        await sql.linkCheckRun(this.db, runId, parseDeploymentId(deploymentId)).catch((err: unknown) => this.options.logger.warn({ err, deployment: deploymentId, checkRun: runId }, 'could not tie the check run to its deployment'));
      },
    };
  }

  /** Runs the service's check, if it has one; throws CHECK_FAILED with its output. */
  private async check(build: Build, by: string, detail: Record<string, unknown>): Promise<number | null> {
    const settings = await sql.selectDelivery(this.db, build.service);
    if (!settings || (settings.checkCommand === null && settings.checkUrl === null)) return null;
    const service = await this.services.get(build.service);
    const outcome = await this.checker.run({ command: settings.checkCommand, url: settings.checkUrl, timeoutMs: settings.checkTimeoutMs ?? this.options.checkTimeoutMs }, service, build);
    const runId = await sql.insertCheckRun(this.db, { service: build.service, buildId: build.id, ...outcome, ranBy: by, ranAt: this.options.clock() });
    detail.check = { run: runId, kind: outcome.kind, ok: outcome.ok, durationMs: Math.round(outcome.durationMs) };
    this.options.logger.info({ service: build.service, build: formatBuildId(build.id), check: outcome.target, ok: outcome.ok }, 'pre-deploy check');
    if (!outcome.ok) {
      throw new FleetcastError(
        'CHECK_FAILED',
        `the pre-deploy check of ${build.service} failed for ${formatBuildId(build.id)} (${outcome.kind} ${outcome.target}); nothing was deployed. Its output:\n${outcome.output.trimEnd()}`,
        { service: build.service, build: formatBuildId(build.id), kind: outcome.kind, target: outcome.target, output: outcome.output },
      );
    }
    return runId;
  }
}
