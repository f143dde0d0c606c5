import { expect, it } from 'vitest';
import { lowMemoryEnv, startedWithLowMemoryEnv } from './process-memory.ts';

it('adds one malloc arena and small V8 semi-spaces, keeping NODE_OPTIONS and MALLOC_ARENA_MAX already given', () => {
  expect(lowMemoryEnv({})).toEqual({ MALLOC_ARENA_MAX: '1', NODE_OPTIONS: '--max-semi-space-size=1' });
  expect(lowMemoryEnv({ NODE_OPTIONS: '--enable-source-maps', MALLOC_ARENA_MAX: '2' })).toEqual({
    MALLOC_ARENA_MAX: '2',
    NODE_OPTIONS: '--enable-source-maps --max-semi-space-size=1',
  });
});

it('tells whether a process was started with them', () => {
  expect(startedWithLowMemoryEnv({})).toBe(false);
  expect(startedWithLowMemoryEnv({ MALLOC_ARENA_MAX: '1' })).toBe(false);
  expect(startedWithLowMemoryEnv(lowMemoryEnv({}))).toBe(true);
});
