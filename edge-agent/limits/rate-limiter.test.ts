import { describe, expect, it } from 'vitest';
import { RateLimiter } from './rate-limiter.ts';

describe('RateLimiter', () => {
  it('lets bytes through at the configured rate once the burst is spent', async () => {
    let now = 0;
    const limiter = new RateLimiter(1000, { burstBytes: 100, now: () => now });
    await limiter.take(100);
    let passed = false;
    const pending = limiter.take(50).then(() => (passed = true));
    await new Promise((r) => setTimeout(r, 5));
    expect(passed).toBe(false);
    now += 50; // 50 ms at 1000 B/s refills 50 bytes
    await pending;
    expect(passed).toBe(true);
  });

  it('serves waiters in order and passes a take larger than the burst', async () => {
    let now = 0;
    const limiter = new RateLimiter(1000, { burstBytes: 10, now: () => now });
    const order: number[] = [];
    const first = limiter.take(500).then(() => order.push(1));
    const second = limiter.take(1).then(() => order.push(2));
    await first;
    now += 600;
    await second;
    expect(order).toEqual([1, 2]);
  });

  it('is a no-op without a rate, and rejects on abort', async () => {
    await new RateLimiter(null).take(1e12);
    const limiter = new RateLimiter(1, { burstBytes: 1 });
    await limiter.take(1);
    const controller = new AbortController();
    const waiting = limiter.take(1, controller.signal);
    controller.abort(new Error('stopped'));
    await expect(waiting).rejects.toThrow('stopped');
  });
});
