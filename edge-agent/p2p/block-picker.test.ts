import { describe, expect, it } from 'vitest';
import { BlockPicker, type BlockHolder } from './block-picker.ts';

/** A peer holding `blocks` (every block when complete), with `inflight` of this machine's requests. */
function peer(blocks: number[] | 'all', inflight = 0, maxInflight = 2): BlockHolder {
  const held = new Set(blocks === 'all' ? [] : blocks);
  return { complete: blocks === 'all', has: (index) => blocks === 'all' || held.has(index), inflight, maxInflight };
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

describe('BlockPicker', () => {
  it('asks a free seeder for blocks no downloading peer holds, at random', () => {
    const picker = new BlockPicker(range(8), { random: () => 0.99 });
    // Blocks 0–5 are held by a downloading neighbour; 6 and 7 only by the seeder.
    expect(picker.pick([peer('all'), peer(range(6))])).toBe(7);
    expect(picker.pick([peer('all'), peer(range(6))])).toBe(6);
  });

  it('once the seeders are busy, asks a free neighbour for the earliest block it holds', () => {
    const picker = new BlockPicker([2, 5, 9, 11]);
    expect(picker.pick([peer('all', 2), peer([9, 11]), peer([5], 2)])).toBe(9);
    expect(picker.remaining).toBe(3);
  });

  it('picks nothing while no peer able to serve has a free slot, and the block later', () => {
    const picker = new BlockPicker([3, 4]);
    expect(picker.pick([peer('all', 2), peer([3], 2)])).toBeNull();
    expect(picker.pick([])).toBeNull();
    expect(picker.remaining).toBe(2);
    expect(picker.pick([peer('all', 1), peer([3], 2)])).toBe(4);
  });

  it('with no seeder, takes blocks from the neighbours that hold them', () => {
    const picker = new BlockPicker(range(4));
    const neighbour = peer([1, 3]);
    expect(picker.pick([neighbour])).toBe(1);
    expect(picker.pick([neighbour])).toBe(3);
    expect(picker.pick([neighbour])).toBeNull();
  });

  it('looks only `lookahead` blocks ahead, so the file is fetched roughly from the front', () => {
    const picker = new BlockPicker(range(100), { lookahead: 10, random: () => 0.99 });
    expect(picker.pick([peer('all')])).toBe(9);
    expect(picker.pick([peer('all', 2), peer([50, 5])])).toBe(5);
  });

  it('picks every missing block exactly once', () => {
    const missing = [0, 3, 4, 8, 20, 21];
    const picker = new BlockPicker(missing);
    const picked: number[] = [];
    for (let index = picker.pick([peer('all')]); index !== null; index = picker.pick([peer('all')])) picked.push(index);
    expect(picked.sort((a, b) => a - b)).toEqual(missing);
    expect(picker.remaining).toBe(0);
  });
});
