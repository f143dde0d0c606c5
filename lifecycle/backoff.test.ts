import { describe, expect, it } from 'vitest';
import { backoffDelay } from './backoff.ts';

describe('backoffDelay', () => {
  it('doubles from the first pause and stops at the cap', () => {
    const backoff = { initialMs: 100, maxMs: 1_000 };
    expect([1, 2, 3, 4, 5, 6].map((retry) => backoffDelay(retry, backoff))).toEqual([100, 200, 400, 800, 1_000, 1_000]);
  });

  it('treats retry 0 like the first retry and never overflows', () => {
    expect(backoffDelay(0, { initialMs: 50 })).toBe(50);
    expect(backoffDelay(10_000, { initialMs: 50, maxMs: 60_000 })).toBe(60_000);
    expect(Number.isFinite(backoffDelay(10_000, { initialMs: 50 }))).toBe(true);
  });

  it('draws the jittered share at random, never more than the pause', () => {
    const pauses = Array.from({ length: 200 }, () => backoffDelay(3, { initialMs: 100, jitter: 0.5 }));
    expect(Math.min(...pauses)).toBeGreaterThanOrEqual(200);
    expect(Math.max(...pauses)).toBeLessThanOrEqual(400);
    expect(new Set(pauses).size).toBeGreaterThan(1);
  });
});
