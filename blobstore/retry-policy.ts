import { setTimeout as delay } from 'node:timers/promises';
import type { FleetcastError } from '../errors/index.ts';
import { backoffDelay } from '../lifecycle/index.ts';
import type { Logger } from '../logging/index.ts';

export interface RetryOptions {
  /** Tries of one request before giving up with STORAGE_UNAVAILABLE. @defaultValue 8 */
  maxAttempts?: number;
  /** Wait before the first retry; doubles each time, with jitter. @defaultValue 250 ms */
  initialDelayMs?: number;
  /** Longest wait between tries. @defaultValue 16 s */
  maxDelayMs?: number;
}

export interface RetryPolicy {
  maxAttempts: number;
  initialDelayMs: number;
  maxDelayMs: number;
}

export function retryPolicy(options: RetryOptions = {}): RetryPolicy {
  return {
    maxAttempts: Math.max(1, options.maxAttempts ?? 8),
    initialDelayMs: Math.max(0, options.initialDelayMs ?? 250),
    maxDelayMs: Math.max(0, options.maxDelayMs ?? 16_000),
  };
}

/**
 * Waits before retry number `attempt` (1 for the first retry): exponential, capped, with jitter
 * so that many workers hitting one overloaded bucket do not retry in lock-step.
 */
export async function backoff(policy: RetryPolicy, attempt: number): Promise<void> {
  await delay(backoffDelay(attempt, { initialMs: policy.initialDelayMs, maxMs: policy.maxDelayMs, jitter: 0.5 }));
}

type Where = { bucket: string; name?: string };

/** How an object store's client errors are told apart and named (GCS, S3). */
export interface StoreErrors {
  /** For messages: `GCS`, `S3`. */
  name: string;
  /** Whether a retry may fix it (5xx, 429, a reset connection…), not 404, 412, 403. */
  isRetriable: (err: unknown) => boolean;
  /** The FleetcastError of `err`, naming what was being done where, after `attempts` tries. */
  error: (err: unknown, doing: string, where: Where, attempts?: number) => FleetcastError;
}

export interface RequestContext {
  policy: RetryPolicy;
  logger: Logger;
  doing: string;
  bucket: string;
  name?: string;
}

/**
 * Runs one request until it succeeds, fails for a reason a retry cannot fix, or has been tried
 * `maxAttempts` times; waits between tries with exponential backoff. Only for requests that are
 * safe to repeat: reads, deletes, a part with its bytes in memory, copies to a fixed name.
 * Whatever it throws is a FleetcastError.
 */
export async function withStoreRetry<T>(errors: StoreErrors, work: () => Promise<T>, context: RequestContext): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (err) {
      if (!errors.isRetriable(err) || attempt >= context.policy.maxAttempts) {
        throw errors.error(err, context.doing, { bucket: context.bucket, name: context.name }, attempt);
      }
      context.logger.warn({ object: context.name, attempt, err: (err as Error)?.message }, `${errors.name} ${context.doing} failed; retrying`);
      await backoff(context.policy, attempt);
    }
  }
}
