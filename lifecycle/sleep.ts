import { setTimeout as delay } from 'node:timers/promises';

/** Resolves after `ms`, or early when `signal` aborts. Never rejects. */
export async function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  await delay(ms, undefined, { signal }).catch(() => undefined);
}
