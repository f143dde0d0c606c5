import { describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { calibrationFrom, p2pScalingRuns } from './calibration-source.ts';
import { parseSimArgs } from './cli-options.ts';
import { regionLowerBound, simulateFleet, type RegionTimeline } from './fleet.ts';
import { planGroups } from './machine-groups.ts';
import { defaultParams, GiB, MiB, parseBytes, parseRate, parseSeconds, type SimParams } from './params.ts';
import { discoveredAt, share, simulateRegion } from './region-swarm-model.ts';
import { sweepSvg } from './sweep-svg.ts';

const small = (overrides: Partial<SimParams> = {}) => defaultParams({ machines: 2_000, regions: 2, size: 1 * GiB, buildS: 60, ...overrides });

describe('fleet simulator', () => {
  it('moves every byte exactly once per machine and never beats the lower bound', () => {
    const r = simulateFleet(small({ bucketFallbackS: 300 }));
    const delivered = r.bytesFromSeeders + r.bytesFromPeers + (r.bytesFromBucket - r.bucketBytesForCores);
    expect(delivered / (2_000 * GiB)).toBeCloseTo(1, 3);
    expect(r.t100).not.toBeNull();
    expect(r.t100!).toBeGreaterThanOrEqual(r.totalLowerBoundS);
    expect(r.deployS!).toBeGreaterThanOrEqual(r.deployLowerBoundS);
    expect(r.t50!).toBeLessThanOrEqual(r.t99!);
    expect(r.machinesFellBack).toBe(0);
  });

  it('sends every canary agent to the bucket when the seeders need longer than the fallback to make the core', () => {
    // 1 GiB at 10 MB/s: 107 s of core preparation against a 30 s fallback.
    const p = small();
    const r = simulateFleet({ ...p, peer: { ...p.peer, corePrepRate: 10e6 }, preheat: false, seederWaitS: 0 });
    const canary = r.regions.find((t) => t.wave === 1)!;
    expect(canary.seederReadyAt - canary.goalAt).toBeGreaterThan(30);
    expect(canary.outcome.fellBack).toBeCloseTo(1_000, 0);
    expect(r.bytesFromBucket).toBeGreaterThan(900 * GiB);
    // A fallback longer than the preparation keeps them on peers.
    const patient = simulateFleet({ ...p, peer: { ...p.peer, corePrepRate: 10e6 }, preheat: false, bucketFallbackS: 300 });
    expect(patient.machinesFellBack).toBe(0);
  });

  it('agents wait FLEETCAST_AGENT_SEEDER_WAIT for a late core, then a stall of FLEETCAST_AGENT_BUCKET_FALLBACK sends them to the bucket', () => {
    const p = small();
    const late = { ...p, peer: { ...p.peer, corePrepRate: 10e6 }, preheat: false };
    // 107 s of core preparation: within the 5 min seeder wait, nobody falls back even with a 30 s stall limit.
    expect(simulateFleet({ ...late, seederWaitS: 300, bucketFallbackS: 30 }).machinesFellBack).toBe(0);
    // Without the seeder wait (the code before it), every canary machine does.
    expect(simulateFleet({ ...late, seederWaitS: 0, bucketFallbackS: 30 }).machinesFellBack).toBeGreaterThan(900);
    // A seeder wait shorter than the preparation helps nothing.
    expect(simulateFleet({ ...late, seederWaitS: 60, bucketFallbackS: 30 }).machinesFellBack).toBeGreaterThan(900);
  });

  it('writes the second wave only after the canary settled, and crashed machines hold it for the silent time', () => {
    const r = simulateFleet(small({ bucketFallbackS: 300, churn: 0.05 }));
    const [canary, rest] = [r.regions.find((t) => t.wave === 1)!, r.regions.find((t) => t.wave === 2)!];
    expect(rest.goalAt).toBeGreaterThanOrEqual(canary.settledAt);
    const crashed = canary.outcome.groups.filter((g) => g.deadAt !== null);
    expect(crashed.length).toBeGreaterThan(0);
    expect(canary.settledAt).toBeGreaterThanOrEqual(Math.max(...crashed.map((g) => g.deadAt! + 90)));
    expect(r.liveMachines).toBeCloseTo(2_000 * 0.95, 0);
  });

  it('with prefetch the later waves fetch from the first wave on and run once their goal came: one download, not two', () => {
    const [on, off] = [simulateFleet(small({ bucketFallbackS: 300 })), simulateFleet(small({ bucketFallbackS: 300, prefetch: false }))];
    const canary = on.regions.find((t) => t.wave === 1)!;
    const rest = on.regions.find((t) => t.wave === 2)!;
    expect(rest.goalAt).toBeGreaterThanOrEqual(canary.settledAt);
    // Nobody in the later wave runs before its goal, and all run at its goal plus the install.
    for (const g of rest.outcome.groups) expect(g.runningAt!).toBeCloseTo(rest.goalAt + on.params.installS, 6);
    const download = canary.settledAt - canary.goalAt;
    expect(on.deployS!).toBeLessThan(download + 30);
    // What prefetch saves is the later wave's own fetch.
    const restOff = off.regions.find((t) => t.wave === 2)!;
    expect(off.deployS! - on.deployS!).toBeGreaterThan(0.9 * (restOff.settledAt - restOff.goalAt - off.params.installS));
    expect(on.deployLowerBoundS).toBeLessThan(off.deployLowerBoundS);
    expect(on.deployS!).toBeGreaterThanOrEqual(on.deployLowerBoundS);
    expect(on.bytesFromBucket).toBeCloseTo(off.bytesFromBucket, -6);
  });

  it('a first wave of a share of the first region: that share alone, then the rest of its region (which fetched meanwhile), then the other regions', () => {
    const r = simulateFleet(small({ canaryShare: 1, prefetch: false }));
    const [canary, region, rest] = [1, 2, 3].map((w) => r.regions.filter((t) => t.wave === w)) as [RegionTimeline[], RegionTimeline[], RegionTimeline[]];
    expect(canary.map((t) => [t.region, t.machines])).toEqual([['r0', 10]]);
    expect(region.map((t) => [t.region, t.machines])).toEqual([['r0', 990]]);
    expect(rest.map((t) => [t.region, t.machines])).toEqual([['r1', 1_000]]);
    expect(r.liveMachines).toBeCloseTo(2_000, 6);
    expect(region[0]!.goalAt).toBeGreaterThanOrEqual(canary[0]!.settledAt);
    expect(rest[0]!.goalAt).toBeGreaterThanOrEqual(region[0]!.settledAt);
    // The machines outside the share fetched the build from the canary's goal on, even without
    // prefetch: their wave only switches them (install), while r1 (no prefetch) downloads after its goal.
    expect(region[0]!.settledAt - region[0]!.goalAt).toBeLessThan(rest[0]!.settledAt - rest[0]!.goalAt);
    expect(parseSimArgs(['--canary-share', '0.5']).overrides.canaryShare).toBe(0.5);
    expect(() => parseSimArgs(['--canary-share', '100'])).toThrow(/above 0 and below 100/);
  });

  it('stragglers set the 100 % time; with a canary wave they also hold back every later region', () => {
    // A link of 1/100 (12.5 MB/s) is below the verify rate; 1/10 would not be.
    const run = (overrides: Partial<SimParams>) => simulateFleet(small({ bucketFallbackS: 300, stragglerFactor: 0.01, ...overrides }));
    const [allBase, allSlow] = [run({ wavePlan: 'all' }), run({ wavePlan: 'all', stragglers: 0.05 })];
    expect(allSlow.t100! - allBase.t100!).toBeGreaterThan(60);
    expect(Math.abs(allSlow.t50! - allBase.t50!)).toBeLessThan(5);
    const [canaryBase, canarySlow] = [run({}), run({ stragglers: 0.05 })];
    expect(canarySlow.t50! - canaryBase.t50!).toBeGreaterThan(60);
  });

  it('FLEETCAST_WAVE_MIN_DONE below 1: the canary\'s stragglers no longer hold the later regions, only themselves', () => {
    const run = (overrides: Partial<SimParams>) => simulateFleet(small({ bucketFallbackS: 300, stragglers: 0.05, stragglerFactor: 0.01, ...overrides }));
    const [strict, share] = [run({}), run({ minDoneFraction: 0.9 })];
    const restGoal = (r: ReturnType<typeof simulateFleet>) => r.regions.find((t) => t.wave === 2)!.goalAt;
    expect(restGoal(strict) - restGoal(share)).toBeGreaterThan(40);
    expect(share.t50!).toBeLessThan(strict.t50! - 40);
    // The stragglers still finish (the 100 % time is theirs) and the canary's gate came before them.
    expect(share.t100!).toBeGreaterThan(restGoal(share));
    // 0.9 of 5 % stragglers is not enough to wait for them all; a share above 0.95 is.
    expect(restGoal(run({ minDoneFraction: 0.96 }))).toBeCloseTo(restGoal(strict), 0);
  });

  it('a spread of machine speeds separates 50 % from 100 %', () => {
    const r = simulateFleet(small({ bucketFallbackS: 300, wavePlan: 'all', machineSpread: 0.2 }));
    // 1 GiB at the calibrated ~43 MB/s takes ~25 s; the slowest third at 0.8 takes ~6 s longer.
    expect(r.t100! - r.t50!).toBeGreaterThan(3);
  });

  it('one region alone with one machine takes the seeder link time plus the first byte', () => {
    const groups = planGroups({ machines: 1, tier1Machines: 1, stragglers: 0, stragglerFactor: 1, churn: 0, download: 10 * MiB, upload: 10 * MiB, timeToFirstByteS: 0.2 });
    const p = defaultParams();
    const out = simulateRegion({ ...p, size: 100 * MiB, groups, startAt: 0, seederReadyAt: 0, seeders: 1, seederUpload: 10 * MiB, verifyRate: 1e9, uploadEfficiency: 1, seederEfficiency: 1, bucketEgress: 1e9 });
    const done = out.groups.map((g) => g.runningAt! - p.installS);
    for (const t of done) expect(t).toBeGreaterThan(10);
    expect(Math.max(...done)).toBeLessThan(10 + 0.3 + 0.2);
    expect(out.bytesFromSeeders / (100 * MiB)).toBeCloseTo(1, 3);
    expect(regionLowerBound({ ...p, size: 100 * MiB, seedersPerRegion: 1, seederUpload: 10 * MiB, agentDownload: 10 * MiB, agentUpload: 10 * MiB }, 1, 1)).toBeCloseTo(10, 5);
  });

  it('finds a late seeder at the next lookup (1, 2, 4, 8, 16, 30 s pauses)', () => {
    expect(discoveredAt(0, 0)).toBe(0);
    expect(discoveredAt(0, 2)).toBe(3);
    expect(discoveredAt(0, 20)).toBe(31);
    expect(discoveredAt(0, 62)).toBe(91);
  });

  it('shares supply in proportion, never above demand', () => {
    expect(share(10, [2, 3])).toEqual([2, 3]);
    expect(share(10, [10, 30])).toEqual([2.5, 7.5]);
  });

  it('parses sizes, rates, durations and CLI flags', () => {
    expect(parseBytes('10GiB')).toBe(10 * GiB);
    expect(parseRate('10gbit')).toBe(1.25e9);
    expect(parseSeconds('5m')).toBe(300);
    expect(parseSimArgs(['--machines', '100000', '--size=2GiB', '--seeders-per-region', '4', '--no-preheat']).overrides).toEqual({ machines: 100_000, size: 2 * GiB, seedersPerRegion: 4, preheat: false });
    expect(() => parseSimArgs(['--nope', '1'])).toThrow(/unknown flag/);
  });

  it('draws the sweep as an SVG with one line per fleet size', () => {
    const svg = sweepSvg(
      [
        { machines: 1000, sizeGiB: 1, deployMin: 2, totalMin: 17 },
        { machines: 1000, sizeGiB: 10, deployMin: 6, totalMin: 22 },
      ],
      'test',
    );
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('1,000 machines');
    expect(svg.match(/<polyline/g)?.length).toBe(2);
  });

  it("reads bench/p2p's calibration rows, keeping defaults for figures it lacks", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sim-cal-'));
    try {
      const file = path.join(dir, 'p2p.json');
      const r = (metric: string, value: number, unit: string, ratio: number | null = null) => ({ metric, value, unit, baseline: null, ratio, target: null, pass: null });
      fs.writeFileSync(
        file,
        JSON.stringify({
          benchmark: 'p2p',
          rows: [
            r("calibration: one connection's throughput ÷ its cap (1 agent, cap 12 MiB/s, 64 MiB, goal to installed)", 0.9, 'fraction'),
            r('calibration: time to first byte (fetch start → first verified block; DHT lookup, connect, 1 block)', 250, 'ms'),
            r('calibration: seeder core preparation from the bucket (512 MiB, 3 seeders at once)', 40, 'MiB/s'),
            r('calibration: seeder core preparation from the bucket (2 GiB, one seeder alone)', 180, 'MB/s'),
            r('calibration: sha256 verify rate, one core (agents hash every byte as they write it)', 550, 'MiB/s'),
            r('calibration: one agent from one seeder, no caps (2 GiB, goal to installed; CPU-bound on loopback)', 120, 'MB/s'),
            r('something else', 1, 's'),
          ],
        }),
      );
      const peer = calibrationFrom(file, 'test')!;
      // The hash alone is not an agent's verify rate; bench/p2p has no agent upload efficiency.
      expect(peer).toEqual({ timeToFirstByteS: 0.25, seederEfficiency: 0.9, corePrepRate: 180e6, verifyRate: 120e6, source: 'test' });
      fs.writeFileSync(file, JSON.stringify({ benchmark: 'p2p', rows: [r('other', 1, 's')] }));
      expect(calibrationFrom(file, 'test')).toBeNull();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
  it("reads bench/p2p's N-scaling runs with their caps, none without the caps", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sim-scale-'));
    try {
      const file = path.join(dir, 'p2p.json');
      const r = (metric: string, value: number, unit: string) => ({ metric, value, unit, baseline: null, ratio: null, target: null, pass: null });
      const scaling = [
        r('scaling N=1 (64 MiB, one region): p2p time (baseline: http)', 16.2, 's'),
        r('scaling N=1: lower bound / p2p time', 0.99, 'fraction'),
        r('scaling N=12 (64 MiB, one region): p2p time (baseline: http)', 39.7, 's'),
      ];
      const caps = [r('calibration: caps used, seeder upload', 4, 'MiB/s'), r('calibration: caps used, agent upload', 2, 'MiB/s'), r('calibration: caps used, agent download', 8, 'MiB/s')];
      fs.writeFileSync(file, JSON.stringify({ benchmark: 'p2p', rows: [...scaling, ...caps] }));
      const caps4 = { size: 64 * MiB, seederUpload: 4 * MiB, agentUpload: 2 * MiB, agentDownload: 8 * MiB };
      expect(p2pScalingRuns(file)).toEqual([
        { machines: 1, lastS: 16.2, ...caps4 },
        { machines: 12, lastS: 39.7, ...caps4 },
      ]);
      fs.writeFileSync(file, JSON.stringify({ benchmark: 'p2p', rows: scaling }));
      expect(p2pScalingRuns(file)).toEqual([]);
      expect(p2pScalingRuns(path.join(dir, 'missing.json'))).toEqual([]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
