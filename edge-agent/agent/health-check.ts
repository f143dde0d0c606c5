import { setTimeout as sleep } from 'node:timers/promises';
import { humanDuration } from '../../config/index.ts';
import type { ProcessExit } from './process-supervisor.ts';

export interface HealthCheckOptions {
  /** The new build's process must stay up this long (FLEETCAST_AGENT_HEALTH_GRACE). */
  graceMs: number;
  /** The health URL must answer 2xx within this long of the switch (FLEETCAST_AGENT_HEALTH_TIMEOUT). */
  timeoutMs: number;
  /** Between two requests to the health URL. @defaultValue 500 */
  pollMs?: number;
  /** One request's limit. @defaultValue 2_000 */
  requestTimeoutMs?: number;
}

export interface HealthTarget {
  build: string;
  /** The process started for the build; null when the agent runs none (install only, or a run hook). */
  exited: Promise<ProcessExit> | null;
  healthUrl: string | null;
  /** The last lines the process printed, for the reason of a failure. */
  lastLines?: () => Promise<string>;
}

export type HealthResult = { healthy: true } | { healthy: false; reason: string };

/**
 * Healthy: the process stayed up for the grace period, and the goal's health URL (if any)
 * answered 2xx before the timeout while it kept running. Aborting the signal (a newer goal)
 * rejects with its reason.
 */
export async function checkHealth(target: HealthTarget, options: HealthCheckOptions, signal: AbortSignal): Promise<HealthResult> {
  const startedAt = Date.now();
  let exit: ProcessExit | undefined;
  void target.exited?.then((e) => (exit = e));
  const died = async (): Promise<HealthResult> => {
    const tail = (await target.lastLines?.().catch(() => '')) ?? '';
    return {
      healthy: false,
      reason: `the run command of ${target.build} ${exit!.description} ${humanDuration(exit!.uptimeMs)} after it started, within the health grace of ${humanDuration(options.graceMs)}${tail ? `; its last output: ${tail}` : ''}`,
    };
  };

  if (target.exited) {
    const stayedUp = await Promise.race([target.exited.then(() => false), sleep(options.graceMs, true, { signal })]);
    if (!stayedUp) return died();
  }
  if (target.healthUrl === null) return { healthy: true };

  const deadline = startedAt + Math.max(options.timeoutMs, options.graceMs);
  let last = 'no answer yet';
  for (;;) {
    signal.throwIfAborted();
    if (exit) return died();
    try {
      const response = await fetch(target.healthUrl, { signal: AbortSignal.any([signal, AbortSignal.timeout(options.requestTimeoutMs ?? 2_000)]), redirect: 'manual' });
      await response.body?.cancel();
      if (response.status >= 200 && response.status < 300) return exit ? died() : { healthy: true };
      last = `HTTP ${response.status}`;
    } catch (err) {
      signal.throwIfAborted();
      last = describeFetchError(err);
    }
    if (Date.now() >= deadline) {
      return { healthy: false, reason: `the health URL ${target.healthUrl} of ${target.build} did not answer 2xx within ${humanDuration(deadline - startedAt)} of the switch (last: ${last})` };
    }
    await sleep(Math.min(options.pollMs ?? 500, Math.max(1, deadline - Date.now())), undefined, { signal });
  }
}

function describeFetchError(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } })?.cause;
  if (cause?.code === 'ECONNREFUSED') return 'connection refused';
  if ((err as Error)?.name === 'TimeoutError') return 'no answer in time';
  return cause?.message ?? (err as Error)?.message ?? String(err);
}
