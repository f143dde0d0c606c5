// A region's machines as a few groups of identical machines (a fluid model): simulating each of
// 10,000 machines × 10,240 blocks per region is ~10^8 block transfers a region; groups that share
// their links, their place in the swarm and their fate move as one, which is what the tails
// (stragglers, crashes, late discovery) need. See BENCHMARKS.md for why this choice.

export type GroupMode = 'waiting' | 'p2p' | 'bucket' | 'done' | 'dead';

export interface MachineGroup {
  name: string;
  /** Machines in the group. */
  n: number;
  /** Connected to a seeder: the seeders' max-peers connections go to the first agents that find them. */
  tier1: boolean;
  /** Link download and upload of one machine, bytes/s (before the verify ceiling and the upload limit). */
  download: number;
  upload: number;
  /** Seconds from joining the topic to the first block, this group's share of the spread. */
  firstByteDelayS: number;
  /** The machines' verify rate as a multiple of the calibrated one (hardware spread). */
  speed: number;
  /** A churned group crashes once it holds this fraction of the file; null: it never does. */
  crashAtFraction: number | null;

  // --- state
  mode: GroupMode;
  startAt: number;
  /** Bytes held by each machine. */
  held: number;
  /** Last time a whole block arrived (FallbackFetcher's timer is re-armed by progress). */
  lastBlockAt: number;
  sinceLastBlock: number;
  /** File complete and verified (not yet installed). */
  doneAt: number | null;
  /** Crashed at (then it counts as silent FLEETCAST_STATUS_SILENT_AFTER later). */
  deadAt: number | null;
  /** Held bytes at the moment it fell back to the bucket (they came from peers). */
  fellBackAt: number | null;
}

export interface GroupPlan {
  machines: number;
  tier1Machines: number;
  stragglers: number;
  stragglerFactor: number;
  churn: number;
  download: number;
  upload: number;
  timeToFirstByteS: number;
  /** ± spread of machine speed (verify rate); the later-starting third is also the slower. @defaultValue 0 */
  speedSpread?: number;
}

/**
 * Splits a region into groups: tier-1 (seeder-connected) or not, × normal or straggler links,
 * × three start spreads (half, one and one and a half the measured time to first byte; with a
 * speed spread s, those thirds also verify at 1+s, 1 and 1−s of the calibrated rate), with a
 * churned share of each crashing at a quarter, half or three quarters of its download.
 */
export function planGroups(plan: GroupPlan): MachineGroup[] {
  const groups: MachineGroup[] = [];
  const tiers: [boolean, number][] = [
    [true, Math.min(plan.machines, plan.tier1Machines)],
    [false, Math.max(0, plan.machines - plan.tier1Machines)],
  ];
  const spreads = [0.5, 1, 1.5];
  const crashes = [0.25, 0.5, 0.75];
  for (const [tier1, machines] of tiers) {
    if (machines <= 0) continue;
    for (const [kind, share, factor] of [
      ['normal', 1 - plan.stragglers, 1],
      ['straggler', plan.stragglers, plan.stragglerFactor],
    ] as const) {
      const inKind = machines * share;
      if (inKind <= 0) continue;
      for (const spread of spreads) {
        const inSpread = inKind / spreads.length;
        const speed = 1 + (plan.speedSpread ?? 0) * (1 - spread) * 2;
        const base = { tier1, download: plan.download * factor, upload: plan.upload * factor, firstByteDelayS: plan.timeToFirstByteS * spread, speed };
        const name = `${tier1 ? 'tier1' : 'rest'}-${kind}-${spread}`;
        groups.push(newGroup({ ...base, name, n: inSpread * (1 - plan.churn), crashAtFraction: null }));
        if (plan.churn > 0) {
          for (const at of crashes) groups.push(newGroup({ ...base, name: `${name}-crash${at}`, n: (inSpread * plan.churn) / crashes.length, crashAtFraction: at }));
        }
      }
    }
  }
  return groups.filter((g) => g.n > 0);
}

function newGroup(fields: Pick<MachineGroup, 'name' | 'n' | 'tier1' | 'download' | 'upload' | 'firstByteDelayS' | 'speed' | 'crashAtFraction'>): MachineGroup {
  return { ...fields, mode: 'waiting', startAt: 0, held: 0, lastBlockAt: 0, sinceLastBlock: 0, doneAt: null, deadAt: null, fellBackAt: null };
}
