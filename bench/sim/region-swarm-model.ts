// One region's distribution of one build, as the agent's code behaves (edge-agent/p2p,
// edge-agent/fetch), in fluid form over machine groups (machine-groups.ts), stepped in time.
import type { MachineGroup } from './machine-groups.ts';

export interface RegionSwarmInput {
  size: number;
  groups: MachineGroup[];
  /** Agents of the region start their fetch at this time: when the goal arrives, or a prefetch hint before it. */
  startAt: number;
  /** The goal arrives (prefetch: after startAt); a machine runs the build once it holds it and the goal came. @defaultValue startAt */
  goalAt?: number;
  /** The seeders serve the core from this time (their core was made from the regional bucket). */
  seederReadyAt: number;
  seeders: number;
  seederUpload: number;
  maxPeers: number;
  window: number;
  blockSize: number;
  rttS: number;
  verifyRate: number;
  uploadEfficiency: number;
  seederEfficiency: number;
  /** FLEETCAST_P2P_UPLOAD_LIMIT, bytes/s; null = none. */
  uploadLimit: number | null;
  bucketFallbackS: number;
  /** FLEETCAST_AGENT_SEEDER_WAIT: how long an agent waits for a first peer holding the core. */
  seederWaitS: number;
  bucketRatePerAgent: number;
  bucketEgress: number;
  installS: number;
  silentAfterS: number;
  /** What-if: the seeders serve the core while filling it from `from` at `rate` bytes/s; no machine holds more than is filled. */
  growingCore?: { from: number; rate: number };
  /** Give up after this much simulated time (a deploy that never finishes). @defaultValue 6 h */
  horizonS?: number;
}

export interface GroupOutcome {
  name: string;
  n: number;
  /** Running the build (file verified, installed, health-checked); null: never (crashed, or past the horizon). */
  runningAt: number | null;
  /** Crashed at; the wave stops waiting for it silentAfterS later. */
  deadAt: number | null;
  fellBack: boolean;
}

export interface RegionOutcome {
  groups: GroupOutcome[];
  /** Every live machine runs the build and every crashed one is silent: the wave gate can pass. */
  settledAt: number;
  bytesFromSeeders: number;
  bytesFromPeers: number;
  bytesFromBucket: number;
  /** Machines that fell back to the bucket. */
  fellBack: number;
  seederBusyS: number;
}

/**
 * Pauses between an agent's lookups of the topic while it is incomplete (region-swarm.ts
 * lookupPausesMs): a seeder that starts serving after the agents joined is found at their next lookup.
 */
const lookupPausesS = [1, 2, 4, 8, 16, 30];

/** When an agent that joined at `joinedAt` first sees a peer that started serving at `servingAt`. */
export function discoveredAt(joinedAt: number, servingAt: number): number {
  if (servingAt <= joinedAt) return joinedAt;
  let t = joinedAt;
  for (let i = 0; ; i++) {
    t += lookupPausesS[Math.min(i, lookupPausesS.length - 1)]!;
    if (t >= servingAt) return t;
  }
}

/** Shares `supply` among `demands` in proportion, none getting more than it asked. */
export function share(supply: number, demands: number[]): number[] {
  const total = demands.reduce((a, b) => a + b, 0);
  if (total <= supply || total === 0) return [...demands];
  return demands.map((d) => (d * supply) / total);
}

export function simulateRegion(input: RegionSwarmInput): RegionOutcome {
  const { size, groups } = input;
  const windowCap = (input.window * input.blockSize) / input.rttS;
  const capOf = (g: MachineGroup) => Math.min(input.verifyRate * g.speed, windowCap);
  const slowest = Math.min(...groups.map((g) => Math.min(g.download, capOf(g))));
  // Steps fine enough for the fallback timer and the slowest machine's blocks, few enough for 10 GiB.
  const dt = Math.min(0.5, Math.max(0.002, Math.min(size / slowest / 400, input.blockSize / slowest / 2, input.bucketFallbackS / 20)));
  const horizon = input.startAt + (input.horizonS ?? 6 * 3600);
  const seederSupply = input.seeders * input.seederUpload * input.seederEfficiency;
  const seenSeederAt = discoveredAt(input.startAt, input.seederReadyAt);
  let bytesFromSeeders = 0;
  let bytesFromPeers = 0;
  let bytesFromBucket = 0;
  let seederBusyS = 0;
  // FallbackFetcher: until the agent met a peer holding the core (the seeders, or neighbours that
  // got it from them) it waits FLEETCAST_AGENT_SEEDER_WAIT; from then on a stall of
  // FLEETCAST_AGENT_BUCKET_FALLBACK without a new block sends it to the bucket.
  const seederWaitS = Math.max(input.seederWaitS, input.bucketFallbackS);
  const waitedTooLong = (g: MachineGroup, t: number) =>
    t < seenSeederAt ? t - g.startAt >= seederWaitS : t - Math.max(g.lastBlockAt, seenSeederAt) >= input.bucketFallbackS;
  for (const g of groups) {
    g.startAt = input.startAt;
    g.mode = 'waiting';
    g.lastBlockAt = input.startAt;
  }

  for (let t = input.startAt; t < horizon; t += dt) {
    let active = false;
    for (const g of groups) {
      if (g.mode === 'waiting' && t >= g.startAt) g.mode = 'p2p';
      if (g.crashAtFraction !== null && (g.mode === 'p2p' || g.mode === 'bucket') && g.held >= g.crashAtFraction * size) {
        g.mode = 'dead';
        g.deadAt = t;
      }
      if (g.mode === 'p2p' || g.mode === 'bucket' || g.mode === 'waiting') active = true;
    }
    if (!active) break;

    const filled = input.growingCore ? Math.min(size, Math.max(0, (t + dt - input.growingCore.from) * input.growingCore.rate)) : size;
    const want = (g: MachineGroup) => Math.min(g.download, capOf(g), Math.max(0, (filled - g.held) / dt));
    const downloading = groups.filter((g) => g.mode === 'p2p' && t >= g.startAt + g.firstByteDelayS);
    const rate = new Map<MachineGroup, number>();

    // Seeders serve only the agents holding their max-peers connections (tier 1), once found.
    const fromSeeders = new Map<MachineGroup, number>();
    if (t >= seenSeederAt) {
      const tier1 = downloading.filter((g) => g.tier1);
      const given = share(seederSupply, tier1.map((g) => g.n * want(g)));
      tier1.forEach((g, i) => fromSeeders.set(g, given[i]!));
      const used = given.reduce((a, b) => a + b, 0);
      if (used > 0) seederBusyS += (used / seederSupply) * dt;
    }

    // Agents serve what they hold to neighbours still downloading (block-picker.ts: a machine asks
    // its neighbours for blocks they hold, the seeders for blocks none does); agents that fell
    // back to the bucket serve nothing (their core is unserved).
    const alive = groups.filter((g) => g.mode !== 'dead');
    const aliveN = alive.reduce((s, g) => s + g.n, 0);
    const downloadingN = downloading.reduce((s, g) => s + g.n, 0);
    const holders = alive.filter((g) => (g.mode === 'p2p' || (g.mode === 'done' && g.fellBackAt === null)) && g.held > 0);
    // Connections are capped by FLEETCAST_P2P_MAX_PEERS, and by the region's size in small regions.
    const peers = Math.max(1, Math.min(input.maxPeers, aliveN - 1));
    const neighboursDownloading = Math.max(1, (peers * downloadingN) / Math.max(1, aliveN));
    let agentSupply = 0;
    let heldSum = 0;
    let holderN = 0;
    const supplyOfOne = new Map<MachineGroup, number>();
    for (const g of holders) {
      const x = g.held / size;
      const upload = Math.min(g.upload, input.uploadLimit ?? Number.POSITIVE_INFINITY) * input.uploadEfficiency;
      const one = upload * (1 - (1 - x) ** neighboursDownloading);
      supplyOfOne.set(g, one);
      agentSupply += g.n * one;
      heldSum += g.n * x;
      holderN += g.n;
    }
    // Seen from one machine, the others: it neither serves itself nor counts its own blocks (small regions).
    const fromAgents = share(
      holderN > 0 ? agentSupply : 0,
      downloading.map((g) => {
        const others = Math.max(0, aliveN - 1);
        const xbar = others > 0 ? Math.max(0, heldSum - g.held / size) / others : 0;
        // The share of the blocks the downloader lacks that a neighbour holds: at least what
        // independent holdings give (1 − (1 − x̄)^peers), and — as the picker has the seeders send
        // blocks no agent holds, each to one agent — the region's distinct blocks (those the
        // seeders sent, at most the file) beyond its own. The picker keeps its window full from
        // the neighbours while they hold a window's worth of those.
        const lacking = size - g.held;
        if (lacking <= 0) return 0;
        const distinctInRegion = Math.min(size, bytesFromSeeders);
        const available = Math.max(1 - (1 - xbar) ** peers, Math.min(1, Math.max(0, distinctInRegion - g.held) / lacking));
        const windowFull = Math.min(1, (available * lacking) / Math.min(input.window * input.blockSize, lacking));
        const othersSupply = Math.max(0, agentSupply - (supplyOfOne.get(g) ?? 0));
        // What the seeders give it is no longer asked of the neighbours (their supply is their own).
        const stillWanted = g.n * want(g) - (fromSeeders.get(g) ?? 0);
        return Math.max(0, Math.min(g.n * want(g) * windowFull, stillWanted, g.n * othersSupply));
      }),
    );
    downloading.forEach((g, i) => rate.set(g, (fromSeeders.get(g) ?? 0) + fromAgents[i]!));

    const bucketGroups = groups.filter((g) => g.mode === 'bucket');
    const fromBucket = share(
      input.bucketEgress,
      bucketGroups.map((g) => g.n * Math.min(g.download, input.bucketRatePerAgent, (size - g.held) / dt)),
    );
    bucketGroups.forEach((g, i) => rate.set(g, fromBucket[i]!));

    for (const g of groups) {
      const r = rate.get(g) ?? 0;
      if (r > 0 && g.n > 0) {
        const each = (r * dt) / g.n;
        g.held = Math.min(size, g.held + each);
        g.sinceLastBlock += each;
        if (g.sinceLastBlock >= Math.min(input.blockSize, size)) {
          g.lastBlockAt = t;
          g.sinceLastBlock %= input.blockSize;
        }
        if (g.mode === 'bucket') bytesFromBucket += r * dt;
        else {
          const s = Math.min(r, fromSeeders.get(g) ?? 0);
          bytesFromSeeders += s * dt;
          bytesFromPeers += (r - s) * dt;
        }
      }
      if ((g.mode === 'p2p' || g.mode === 'bucket') && g.held >= size - 1e-6) {
        g.mode = 'done';
        g.doneAt = t + dt;
      } else if (g.mode === 'p2p' && waitedTooLong(g, t)) {
        g.mode = 'bucket';
        g.fellBackAt = t;
      }
    }
  }

  const outcomes: GroupOutcome[] = groups.map((g) => ({
    name: g.name,
    n: g.n,
    runningAt: g.doneAt === null || g.mode === 'dead' ? null : Math.max(g.doneAt, input.goalAt ?? input.startAt) + input.installS,
    deadAt: g.deadAt,
    fellBack: g.fellBackAt !== null,
  }));
  const settledAt = Math.max(
    input.goalAt ?? input.startAt,
    ...outcomes.map((o) => (o.deadAt !== null ? o.deadAt + input.silentAfterS : (o.runningAt ?? Number.POSITIVE_INFINITY))),
  );
  return {
    groups: outcomes,
    settledAt,
    bytesFromSeeders,
    bytesFromPeers,
    bytesFromBucket,
    fellBack: outcomes.filter((o) => o.fellBack).reduce((s, o) => s + o.n, 0),
    seederBusyS,
  };
}
