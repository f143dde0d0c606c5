import { isFleetcastError } from '../errors/index.ts';
import { backoffDelay, sleep } from '../lifecycle/index.ts';
import type { Logger } from '../logging/index.ts';

export interface RetryOptions {
  /** Stops retrying (the last error is thrown) once aborted. */
  signal?: AbortSignal;
  logger: Logger;
  /** What is being retried, for the log line. */
  what: string;
  /** First wait. @defaultValue 100 ms */
  initialDelayMs?: number;
  /** Longest wait between tries. @defaultValue 5 s */
  maxDelayMs?: number;
}

/**
 * Runs `work` until it succeeds or fails for a reason other than DATABASE_UNAVAILABLE. A
 * database restart is routine: workers wait it out with capped exponential backoff (with
 * jitter, so a fleet of workers does not reconnect in lock-step) instead of failing builds.
 */
export async function retryWhileUnavailable<T>(work: () => Promise<T>, options: RetryOptions): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await work();
    } catch (err) {
      if (!isFleetcastError(err, 'DATABASE_UNAVAILABLE') || options.signal?.aborted) throw err;
      const wait = backoffDelay(attempt + 1, { initialMs: options.initialDelayMs ?? 100, maxMs: options.maxDelayMs ?? 5_000, jitter: 0.5 });
      options.logger.warn({ err: err.message, attempt: attempt + 1, retryInMs: Math.round(wait) }, `${options.what}: database unavailable, retrying`);
      await sleep(wait, options.signal);
    }
  }
}
