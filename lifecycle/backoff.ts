/** How the pause between tries grows: doubling from `initialMs`, capped at `maxMs`. */
export interface Backoff {
  /** The pause before the first retry. */
  initialMs: number;
  /** The longest pause. @defaultValue no cap */
  maxMs?: number;
  /**
   * Share of each pause drawn at random: 0.5 waits between half and all of it, so many
   * processes failing together do not retry in lock-step. @defaultValue 0 (exact pauses)
   */
  jitter?: number;
}

/**
 * The pause before retry number `retry` (1 for the first retry): `initialMs × 2^(retry − 1)`,
 * capped at `maxMs`, less up to `jitter` of it at random. The one place fleetcast's retry loops
 * (queue, replication, buckets, NATS, agents, seeders, builds) compute how long to wait.
 */
export function backoffDelay(retry: number, backoff: Backoff): number {
  // Past 2^30 every cap has long been reached; the exponent stays bounded so it never overflows.
  const exponent = Math.min(Math.max(retry, 1) - 1, 30);
  const pause = Math.min(backoff.maxMs ?? Infinity, backoff.initialMs * 2 ** exponent);
  const jitter = backoff.jitter ?? 0;
  return jitter > 0 ? pause * (1 - jitter * Math.random()) : pause;
}
