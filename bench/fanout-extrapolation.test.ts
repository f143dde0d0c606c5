import { describe, expect, it } from 'vitest';
import { extrapolate } from './fanout.ts';

describe('fanout extrapolation', () => {
  it('sizes a region by the tighter of memory and CPU, never below three servers', () => {
    // 40 KiB each: 4 GiB holds 104,857; 5 µcores each: half a core holds 100,000 — CPU binds.
    expect(extrapolate({ rssKiB: 40, idleCores: 2e-6, statusCores: 3e-6 })).toEqual({ agentsPerServer: 100_000, serversPerRegion: 3, serversFor10Regions: 30 });
    // 80 KiB each: 52,428 per server by memory → 2 by arithmetic, 3 for a cluster that survives a loss.
    expect(extrapolate({ rssKiB: 80, idleCores: 0, statusCores: 0 }).serversPerRegion).toBe(3);
    // 400 KiB each: 10,485 per server → 10 servers for 100,000 agents.
    expect(extrapolate({ rssKiB: 400, idleCores: 0, statusCores: 0 })).toEqual({ agentsPerServer: 10_485, serversPerRegion: 10, serversFor10Regions: 100 });
  });
});
