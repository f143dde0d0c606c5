import { waveStatuses, type WaveStatus } from '../../entities/index.ts';
import { FleetcastError } from '../../errors/index.ts';
import type { GoalTarget } from '../../goalstate/index.ts';

/**
 * One wave of a deployment: regions whose goals are written together. PENDING until written,
 * WRITTEN while its machines converge, CONVERGED once they all run the build (the next wave
 * may go), FAILED when too many machines failed or it did not converge in time, SKIPPED when
 * the deployment stopped before reaching it.
 */
export interface Wave {
  regions: string[];
  status: WaveStatus;
  writtenAt: Date | null;
  doneAt: Date | null;
  /**
   * The signed goal written in each region of the wave (its sequence and digest): what the wave
   * is judged against — a machine counts only when it reports that build, digest and sequence —
   * never what a region's mirror holds. Empty until written (and in rows written before goals
   * were signed).
   */
  goals: Record<string, SignedGoalRecord>;
  /** Who promoted the rollout past this wave's gate (`fleetcast deployment promote`): counted as converged, no soak after it. */
  promotedBy?: string;
  /** The metric gate the wave held (a deploy of a service with one, FLEETCAST_PROMETHEUS_URL set); absent: the agents' health alone. */
  gate?: WaveGateRecord;
}

/**
 * A wave's metric gate as recorded in the deployment: the service's rule when the wave's machines
 * converged, since when it holds, the last value read per region, and how it ended (MetricGate).
 */
export interface WaveGateRecord {
  /** The query template, as the service had it when the gate began. */
  query: string;
  max: number;
  holdMs: number;
  /** When the wave's machines had converged and the gate began to hold (ISO time). */
  since: string;
  status: 'HOLDING' | 'PASSED' | 'FAILED';
  /** The last value read per region (the highest of its series); null: no data, or no answer. */
  values: Record<string, number | null>;
  /** When Prometheus was last asked (ISO time). */
  checkedAt: string | null;
  /** Why it failed, or why it has no value yet. */
  reason?: string;
}

/** What the coordinator signed for one region: enough to tell whether a machine runs exactly it. */
export interface SignedGoalRecord {
  seq: number;
  digest: string;
  /** The signing key's id. */
  key: string;
}

export { waveStatuses, type WaveStatus };

/**
 * FLEETCAST_DEPLOY_WAVES: `canary` (the first configured region, then all the others once it
 * has converged), `all` (every region at once), or waves written out, `eu;us,ap` (regions not
 * named go last, together).
 */
export type WavePlanSetting = string;

const regionList = /^[a-z0-9-]+(,[a-z0-9-]+)*$/;

/** The waves of a deploy: explicit ones, else one wave of the requested regions, else the default plan. */
export function planWaves(options: { setting: WavePlanSetting; configured: readonly string[]; requested?: string[] | undefined; explicit?: string[][] | undefined }): string[][] {
  const { configured } = options;
  if (options.explicit && options.explicit.length > 0) return checkWaves(options.explicit, configured, 'the request');
  if (options.requested && options.requested.length > 0) return checkWaves([options.requested], configured, 'the request');
  return defaultWaves(options.setting, configured);
}

/** The default plan, checked against the configured regions (a bad setting stops the coordinator at start). */
export function defaultWaves(setting: WavePlanSetting, configured: readonly string[]): string[][] {
  if (setting === 'all' || configured.length === 1) return [[...configured]];
  if (setting === 'canary') return [[configured[0]!], configured.slice(1)];
  const waves = setting.split(';').map((wave) => wave.trim());
  if (!waves.every((wave) => regionList.test(wave))) {
    throw new FleetcastError('CONFIG_INVALID', `FLEETCAST_DEPLOY_WAVES=${JSON.stringify(setting)}: write canary, all, or waves of regions such as eu;us,ap`, { setting });
  }
  const named = checkWaves(waves.map((wave) => wave.split(',')), configured, 'FLEETCAST_DEPLOY_WAVES', 'CONFIG_INVALID');
  const rest = configured.filter((region) => !named.flat().includes(region));
  return rest.length > 0 ? [...named, rest] : named;
}

function checkWaves(waves: string[][], configured: readonly string[], source: string, code: 'INVALID_INPUT' | 'CONFIG_INVALID' = 'INVALID_INPUT'): string[][] {
  const seen = new Set<string>();
  for (const region of waves.flat()) {
    if (!configured.includes(region)) {
      throw new FleetcastError(code, `${source} names region ${region}, which is not configured: the regions are ${configured.join(', ')}`, { region, configured });
    }
    if (seen.has(region)) throw new FleetcastError(code, `${source} names region ${region} twice; each region belongs to one wave`, { region });
    seen.add(region);
  }
  const nonEmpty = waves.filter((wave) => wave.length > 0);
  if (nonEmpty.length === 0) throw new FleetcastError(code, `${source} names no region`, {});
  return nonEmpty.map((wave) => [...wave]);
}

export function newWaves(plan: string[][]): Wave[] {
  return plan.map((regions) => ({ regions, status: 'PENDING', writtenAt: null, doneAt: null, goals: {} }));
}

/** Waves as stored in deployments.waves (JSON text). */
export function encodeWaves(waves: Wave[]): string {
  return JSON.stringify(waves.map((w) => ({ ...w, writtenAt: w.writtenAt?.toISOString() ?? null, doneAt: w.doneAt?.toISOString() ?? null })));
}

/** A deployment written before waves existed (or while SQL was down) is one wave of all its regions. */
export function decodeWaves(text: unknown, regions: string[], deploymentStatus: string): Wave[] {
  if (typeof text !== 'string' || text === '') {
    const status: WaveStatus = deploymentStatus === 'WRITING' ? 'PENDING' : deploymentStatus === 'FAILED' ? 'FAILED' : deploymentStatus === 'CONVERGED' ? 'CONVERGED' : 'WRITTEN';
    return [{ regions, status, writtenAt: null, doneAt: null, goals: {} }];
  }
  const raw = JSON.parse(text) as { regions: string[]; status: WaveStatus; writtenAt: string | null; doneAt: string | null; goals?: Record<string, SignedGoalRecord>; promotedBy?: string; gate?: WaveGateRecord }[];
  return raw.map((w) => ({
    regions: w.regions,
    status: w.status,
    writtenAt: w.writtenAt ? new Date(w.writtenAt) : null,
    doneAt: w.doneAt ? new Date(w.doneAt) : null,
    goals: w.goals ?? {},
    ...(w.promotedBy ? { promotedBy: w.promotedBy } : {}),
    ...(w.gate ? { gate: w.gate } : {}),
  }));
}

/**
 * What a machine of `region` must report to run the deployment: the goal its wave signed there
 * (build, digest, sequence). A region whose wave is not written yet (or was written before
 * goals were signed) has no signed goal: no machine counts as running it.
 */
export function deploymentTarget(build: string, waves: Wave[], region: string): GoalTarget {
  const signed = waves.find((wave) => wave.regions.includes(region))?.goals[region];
  return { build, digest: signed?.digest ?? null, seq: signed?.seq ?? null };
}
