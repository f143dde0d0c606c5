// One deploy of one build to the whole fleet: build, upload, main → regional replication, the
// seeders' cores, the wave plan (coordinator/deploys/waves.ts: canary region — or first a share
// of it — then the rest once the gate of wave-runner.ts passed and the soak is over), and each
// region's swarm.
import { machinesThatMayLag } from '../../coordinator/deploys/convergence.ts';
import { planGroups } from './machine-groups.ts';
import type { SimParams } from './params.ts';
import { simulateRegion, type RegionOutcome } from './region-swarm-model.ts';

export interface RegionTimeline {
  region: string;
  machines: number;
  wave: number;
  replicatedAt: number;
  seederReadyAt: number;
  goalAt: number;
  settledAt: number;
  outcome: RegionOutcome;
  lowerBoundS: number;
}

export interface FleetResult {
  params: SimParams;
  buildDoneAt: number;
  deployableAt: number;
  /** First wave's goals written: the deploy phase starts. */
  deployStartAt: number;
  /** Times (from the build's start) at which 50 / 99 / 100 % of the live machines run the build; null: never. */
  t50: number | null;
  t99: number | null;
  t100: number | null;
  /** The last wave's gate passed (crashed machines silent, every live one running). */
  convergedAt: number;
  /** Deploy phase (first goal write → 100 % of live machines running). */
  deployS: number | null;
  /**
   * The deploy phase's network lower bound: per wave the slowest region's T ≥ max(F/u_s, F/d,
   * N·F/(u_s+Σu)), summed over waves — or, with prefetch (every region fetching from the first
   * wave on), the largest of them.
   */
  deployLowerBoundS: number;
  /** Build + upload + replication + the deploy's lower bound. */
  totalLowerBoundS: number;
  bytesFromBucket: number;
  bytesFromSeeders: number;
  bytesFromPeers: number;
  /** Of bytesFromBucket: what seeders read to make their cores. */
  bucketBytesForCores: number;
  machinesFellBack: number;
  liveMachines: number;
  regions: RegionTimeline[];
  /** Wall-clock seconds the simulation took. */
  wallS: number;
}

/** A small deterministic generator (mulberry32): same parameters, same result. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** One region's machines in one wave: all of them, or (a canary share) the ones in it or the rest. */
export interface WaveSlice {
  region: number;
  machines: number;
  /**
   * The machines outside a canary share: their agents fetch the canary's build into their caches
   * as soon as its goal comes (service-reconciler.ts), with prefetch or without.
   */
  fetchesWithFirstWave: boolean;
}

/**
 * The waves: every region at once (`all`), the first region then the rest (`canary`), or with
 * canaryShare a share of the first region, then the rest of it, then the other regions. The share
 * and the rest of its region are modelled as two swarms (in the product they share one region
 * swarm, so the rest's peers include the canary's): a slight underestimate of the rest's peers.
 */
export function planSimWaves(p: SimParams, perRegion: number): WaveSlice[][] {
  const whole = (region: number): WaveSlice => ({ region, machines: perRegion, fetchesWithFirstWave: false });
  if (p.wavePlan === 'all' || (p.regions === 1 && p.canaryShare === null)) return [range(p.regions).map(whole)];
  const rest = range(p.regions).slice(1).map(whole);
  if (p.canaryShare === null) return [[whole(0)], rest];
  // The hash puts about this share of the region's machines in it; at least one to make a canary.
  const canary = Math.max(1, Math.round((perRegion * p.canaryShare) / 100));
  const waves: WaveSlice[][] = [[{ region: 0, machines: canary, fetchesWithFirstWave: false }]];
  if (perRegion > canary) waves.push([{ region: 0, machines: perRegion - canary, fetchesWithFirstWave: true }]);
  return rest.length > 0 ? [...waves, rest] : waves;
}

/** The distribution lower bound of one region from the moment its seeders serve. */
export function regionLowerBound(p: SimParams, machines: number, factor: number): number {
  const seed = p.seedersPerRegion * p.seederUpload;
  const d = Math.min(p.agentDownload * factor, p.peer.verifyRate);
  const u = Math.min(p.agentUpload * factor, p.uploadLimit ?? Number.POSITIVE_INFINITY);
  return Math.max(p.size / seed, p.size / d, (machines * p.size) / (seed + machines * u));
}

export function simulateFleet(p: SimParams): FleetResult {
  const started = performance.now();
  const rand = random(0x5eed + p.regions * 7 + p.machines);
  const perRegion = p.machines / p.regions;
  const buildDoneAt = p.buildS + p.size / p.mainUploadRate;
  const factor = (r: number) => (r >= p.regions - p.slowRegions ? p.slowRegionFactor : 1);
  const replicatedAt = Array.from({ length: p.regions }, (_, r) => buildDoneAt + p.replicationOverheadS + p.size / (p.replicationRate * factor(r)));
  const deployableAt = Math.max(...replicatedAt);
  // A seeder with preheat finds the object at its next bucket scan; without, when the goal arrives.
  const scanPhase = Array.from({ length: p.regions }, () => rand() * p.seederScanS);
  const waves = planSimWaves(p, perRegion);

  const timelines: RegionTimeline[] = [];
  let writeAt = deployableAt;
  // FLEETCAST_DEPLOY_PREFETCH: the later waves' hints are written with the first wave.
  const hintAt = deployableAt + p.goalPropagationS;
  let deployLowerBoundS = 0;
  const prepStartOf = (r: number, goalAt: number) => {
    const seen = Math.ceil((replicatedAt[r]! - scanPhase[r]!) / p.seederScanS) * p.seederScanS + scanPhase[r]!;
    return p.preheat ? Math.min(seen, goalAt) : goalAt;
  };
  const prepRateOf = (r: number) => Math.min(p.peer.corePrepRate, p.bucketEgress * factor(r));
  for (const [w, regions] of waves.entries()) {
    // What-if: the wave runner waits until the wave's seeders serve the build (with preheat).
    if (p.waveWaitsForSeeders && !p.streamingSeeders) writeAt = Math.max(writeAt, ...regions.map(({ region: r }) => prepStartOf(r, Number.POSITIVE_INFINITY) + p.size / prepRateOf(r)));
    let waveSettled = writeAt;
    let waveBound = 0;
    const waveOutcomes: RegionOutcome[] = [];
    for (const { region: r, machines, fetchesWithFirstWave } of regions) {
      const f = factor(r);
      const goalAt = writeAt + p.goalPropagationS;
      const fetchAt = p.prefetch || fetchesWithFirstWave ? Math.min(hintAt, goalAt) : goalAt;
      // Seeders follow hints as they follow goals.
      const prepStart = prepStartOf(r, fetchAt);
      const seederReadyAt = p.streamingSeeders ? prepStart : prepStart + p.size / prepRateOf(r);
      const groups = planGroups({
        machines,
        tier1Machines: p.seedersPerRegion * p.maxPeers,
        stragglers: p.stragglers,
        stragglerFactor: p.stragglerFactor,
        churn: p.churn,
        download: p.agentDownload * f,
        upload: p.agentUpload * f,
        timeToFirstByteS: p.peer.timeToFirstByteS,
        speedSpread: p.machineSpread,
      });
      const outcome = simulateRegion({
        size: p.size,
        groups,
        startAt: fetchAt,
        goalAt,
        seederReadyAt,
        seeders: p.seedersPerRegion,
        seederUpload: p.seederUpload,
        maxPeers: p.maxPeers,
        window: p.window,
        blockSize: p.blockSize,
        rttS: p.rttS,
        verifyRate: p.peer.verifyRate,
        uploadEfficiency: p.peer.uploadEfficiency,
        seederEfficiency: p.peer.seederEfficiency,
        uploadLimit: p.uploadLimit,
        bucketFallbackS: p.bucketFallbackS,
        seederWaitS: p.seederWaitS,
        bucketRatePerAgent: p.bucketRatePerAgent,
        bucketEgress: p.bucketEgress * f,
        installS: p.installS,
        silentAfterS: p.silentAfterS,
        growingCore: p.streamingSeeders ? { from: prepStart, rate: prepRateOf(r) } : undefined,
      });
      const lowerBoundS = regionLowerBound(p, machines, f);
      waveBound = Math.max(waveBound, lowerBoundS);
      timelines.push({ region: `r${r}`, machines, wave: w + 1, replicatedAt: replicatedAt[r]!, seederReadyAt, goalAt, settledAt: outcome.settledAt, outcome, lowerBoundS });
      waveSettled = Math.max(waveSettled, outcome.settledAt);
      waveOutcomes.push(outcome);
    }
    if (p.minDoneFraction < 1) waveSettled = Math.max(writeAt + p.goalPropagationS, waveGateAt(waveOutcomes, p.minDoneFraction, p.silentAfterS));
    // With prefetch every region downloads from the first wave on: one download bounds the deploy phase.
    deployLowerBoundS = p.prefetch ? Math.max(deployLowerBoundS, waveBound) : deployLowerBoundS + waveBound;
    // wave-runner.ts: the next wave is written once this one converged (reports, a runner round) and the soak passed.
    writeAt = waveSettled + p.gateDelayS + p.soakS;
  }
  const convergedAt = writeAt - p.soakS;

  const done: { at: number; n: number }[] = [];
  let live = 0;
  for (const t of timelines) {
    for (const g of t.outcome.groups) {
      if (g.deadAt !== null) continue;
      live += g.n;
      done.push({ at: g.runningAt ?? Number.POSITIVE_INFINITY, n: g.n });
    }
  }
  done.sort((a, b) => a.at - b.at);
  const at = (fraction: number): number | null => {
    let count = 0;
    for (const d of done) {
      count += d.n;
      if (count >= fraction * live - 1e-6) return Number.isFinite(d.at) ? d.at : null;
    }
    return null;
  };
  const sum = (f: (t: RegionTimeline) => number) => timelines.reduce((s, t) => s + f(t), 0);
  const bucketBytesForCores = p.regions * p.seedersPerRegion * p.size;
  const t100 = at(1);
  return {
    params: p,
    buildDoneAt,
    deployableAt,
    deployStartAt: deployableAt,
    t50: at(0.5),
    t99: at(0.99),
    t100,
    convergedAt,
    deployS: t100 === null ? null : t100 - deployableAt,
    deployLowerBoundS,
    totalLowerBoundS: deployableAt + deployLowerBoundS,
    bytesFromBucket: sum((t) => t.outcome.bytesFromBucket) + bucketBytesForCores,
    bytesFromSeeders: sum((t) => t.outcome.bytesFromSeeders),
    bytesFromPeers: sum((t) => t.outcome.bytesFromPeers),
    bucketBytesForCores,
    machinesFellBack: sum((t) => t.outcome.fellBack),
    liveMachines: live,
    regions: timelines,
    wallS: (performance.now() - started) / 1000,
  };
}

/**
 * judgeWave (coordinator/deploys/convergence.ts) with FLEETCAST_WAVE_MIN_DONE below 1: the first
 * time at most ⌊live·(1 − share)⌋ of the wave's live machines are not running the build, where a
 * crashed machine stops counting as live once it has been silent for silentAfterS.
 */
export function waveGateAt(outcomes: RegionOutcome[], share: number, silentAfterS: number): number {
  const events: { at: number; n: number; kind: 'done' | 'silent' }[] = [];
  let total = 0;
  for (const g of outcomes.flatMap((o) => o.groups)) {
    total += g.n;
    if (g.deadAt !== null) events.push({ at: g.deadAt + silentAfterS, n: g.n, kind: 'silent' });
    else if (g.runningAt !== null) events.push({ at: g.runningAt, n: g.n, kind: 'done' });
  }
  events.sort((a, b) => a.at - b.at);
  let done = 0;
  let silent = 0;
  for (const e of events) {
    if (e.kind === 'done') done += e.n;
    else silent += e.n;
    const live = total - silent;
    if (live - done <= machinesThatMayLag(live, share)) return e.at;
  }
  return Number.POSITIVE_INFINITY;
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}
