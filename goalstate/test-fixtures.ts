// Shared fixtures of the goal-state tests and benchmark: sample goals, waiting helpers.
// Not part of the public API.
import { createHash } from 'node:crypto';
import type { Goal } from './goal-document.ts';

/** A valid goal for `service` in `region` deploying build `b<n>` (deployment `d<n>`). */
export function sampleGoal(service: string, region: string, n: number, overrides: Partial<Goal> = {}): Goal {
  return {
    v: 1,
    service,
    region,
    build: `b${n}`,
    digest: createHash('sha256').update(`${service}-b${n}`).digest('hex'),
    size: 1000 + n,
    artifact: `${service}/b${n}/${service}`,
    p2pKey: null,
    fileName: service,
    runCommand: null,
    healthUrl: null,
    deployment: `d${n}`,
    kind: 'deploy',
    by: 'alice',
    at: new Date().toISOString(),
    reason: '',
    ...overrides,
  };
}

/** Polls `check` until it returns a value other than undefined/false, or fails after `timeoutMs`. */
export async function eventually<T>(check: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 15_000, what = 'the condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? `: ${(lastError as Error).message}` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
