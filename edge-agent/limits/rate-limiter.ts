/**
 * A token bucket for bytes: `take(n)` resolves once n bytes may pass at `bytesPerSecond`, with
 * bursts up to `burstBytes`. One limiter shared by several streams caps their sum (a machine's
 * upload to all its peers, say). `null` means unlimited.
 */
export class RateLimiter {
  private tokens: number;
  private lastRefillMs: number;
  private readonly burst: number;
  /** Waiters are served in order, so a big take cannot be starved by small ones. */
  private queue: Promise<void> = Promise.resolve();

  constructor(
    readonly bytesPerSecond: number | null,
    options: { burstBytes?: number; now?: () => number } = {},
  ) {
    if (bytesPerSecond !== null && !(bytesPerSecond > 0)) throw new RangeError(`bytesPerSecond must be positive or null, got ${bytesPerSecond}`);
    this.now = options.now ?? (() => performance.now());
    // Default burst: a quarter second of traffic, at least 64 KiB, so small rates stay smooth.
    this.burst = options.burstBytes ?? Math.max(64 * 1024, (bytesPerSecond ?? 0) / 4);
    this.tokens = this.burst;
    this.lastRefillMs = this.now();
  }

  private readonly now: () => number;

  get unlimited(): boolean {
    return this.bytesPerSecond === null;
  }

  /** Waits until `bytes` may pass. Rejects with the signal's reason if it aborts first. */
  take(bytes: number, signal?: AbortSignal): Promise<void> {
    if (this.bytesPerSecond === null || bytes <= 0) return Promise.resolve();
    const turn = this.queue.then(() => this.wait(bytes, signal));
    // The next waiter starts after this one, whether it passed or was aborted.
    this.queue = turn.catch(() => undefined);
    return turn;
  }

  private async wait(bytes: number, signal: AbortSignal | undefined): Promise<void> {
    const rate = this.bytesPerSecond!;
    for (;;) {
      signal?.throwIfAborted();
      this.refill(rate);
      // A take larger than the burst passes once the bucket is full, leaving it in debt.
      if (this.tokens >= Math.min(bytes, this.burst)) {
        this.tokens -= bytes;
        return;
      }
      const missing = Math.min(bytes, this.burst) - this.tokens;
      await sleep(Math.max(1, (missing / rate) * 1000), signal);
    }
  }

  private refill(rate: number): void {
    const now = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.lastRefillMs) / 1000) * rate);
    this.lastRefillMs = now;
  }
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
