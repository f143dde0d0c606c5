import { expect, it } from 'vitest';
import { shuffledInStretches } from './block-download.ts';

it('orders the missing blocks stretch by stretch, each stretch a permutation of its own blocks', () => {
  const missing = Array.from({ length: 150 }, (_, i) => i * 2);
  const order = shuffledInStretches(missing, 64);
  expect([...order].sort((a, b) => a - b)).toEqual(missing);
  for (const [start, end] of [[0, 64], [64, 128], [128, 150]] as const) {
    expect(order.slice(start, end).sort((a, b) => a - b)).toEqual(missing.slice(start, end));
  }
});
