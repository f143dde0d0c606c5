import { setTimeout as delay } from 'node:timers/promises';
import { backoffDelay } from '../lifecycle/index.ts';

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
