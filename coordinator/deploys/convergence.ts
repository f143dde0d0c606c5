import { emptySummary, type GoalTarget, type ServiceStatusSummary } from '../../goalstate/index.ts';

/** Where one region's machines stand against the goal, with the verdict the wave logic uses. */
export interface RegionConvergence extends ServiceStatusSummary {
  /** Every machine reporting in time runs the signed goal: its build, digest and sequence (true for a region with no machines). */
  converged: boolean;
  /** false while the region's reports cannot be read (its leaf, or the hub link, is down). */
  known: boolean;
}

/** The convergence of a region whose reports cannot be read right now. */
export function unknownConvergence(region: string, service: string, target: GoalTarget | null): RegionConvergence {
  return { ...emptySummary(region, service, target), converged: false, known: false };
}

export function toConvergence(summary: ServiceStatusSummary): RegionConvergence {
  const live = summary.machines - summary.silent;
  return { ...summary, converged: summary.running === live, known: true };
}

export interface WaveRules {
  /** Failed machines tolerated in a wave, as a fraction of its live machines (FLEETCAST_WAVE_MAX_FAILED). */
  maxFailedFraction: number;
  /**
   * Share of its live machines that must be done with the goal build (running it, or failed on
   * it within the tolerance) before the next wave goes (FLEETCAST_WAVE_MIN_DONE). Below 1, a few
   * stragglers do not hold the fleet; they carry on with their goal. @defaultValue 1
   */
  minDoneFraction?: number;
}

export type WaveVerdict = { kind: 'waiting'; reason: string } | { kind: 'done' } | { kind: 'halt'; reason: string };

/** How many of a wave's `live` machines may still be unfinished when the next wave goes. */
export function machinesThatMayLag(live: number, minDoneFraction: number): number {
  // The epsilon keeps 1 − 0.99 of 100 machines at 1, not 0.99999….
  return Math.floor(live * (1 - minDoneFraction) + 1e-9);
}

/**
 * Whether a wave may be followed by the next: every live machine of its regions (or the share
 * minDoneFraction of them) has finished with the goal build (running it, or failed on it), and
 * no more failed than tolerated. Failure beyond the tolerance halts the rollout at once,
 * whatever the others are still doing.
 */
export function judgeWave(regions: RegionConvergence[], rules: WaveRules): WaveVerdict {
  let live = 0;
  let failed = 0;
  let unfinished = 0;
  const unknown: string[] = [];
  for (const region of regions) {
    if (!region.known) unknown.push(region.region);
    live += region.machines - region.silent;
    failed += region.failed.machines;
    unfinished += region.machines - region.silent - region.running - region.failed.machines;
  }
  const tolerated = Math.floor(live * rules.maxFailedFraction);
  if (failed > tolerated) {
    const examples = regions.flatMap((r) => r.failed.examples.map((e) => `${r.region}/${e.machine}: ${e.error ?? 'failed'}`)).slice(0, 3);
    return { kind: 'halt', reason: `${failed} of ${live} machines failed on the goal build (at most ${tolerated} tolerated): ${examples.join('; ')}` };
  }
  if (unknown.length > 0) return { kind: 'waiting', reason: `the agents' reports of ${unknown.join(', ')} cannot be read` };
  const mayLag = machinesThatMayLag(live, rules.minDoneFraction ?? 1);
  if (unfinished > mayLag) {
    return { kind: 'waiting', reason: `${unfinished} of ${live} machines are not on the goal build yet${mayLag > 0 ? ` (the next wave goes with at most ${mayLag} left)` : ''}` };
  }
  return { kind: 'done' };
}
