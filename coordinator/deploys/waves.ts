import { waveStatuses, type WaveStatus } from '../../entities/index.ts';
import { FleetcastError, isFleetcastError } from '../../errors/index.ts';
import { formatWaveTarget, parseWaveTarget, type GoalTarget } from '../../goalstate/index.ts';

/**
 * One wave of a deployment: regions whose goals are written together. PENDING until written,
 * WRITTEN while its machines converge, CONVERGED once they all run the build (the next wave
 * may go), FAILED when too many machines failed or it did not converge in time, SKIPPED when
 * the deployment stopped before reaching it.
 */
export interface Wave {
  regions: string[];
  /** Regions of which the wave takes a share (percent), not all: only the machines in it (inShare) get the goal. */
  shares?: Record<string, number>;
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
 * FLEETCAST_DEPLOY_WAVES (or a service's own plan): `canary` (the first configured region, then
 * all the others once it has converged), `all` (every region at once), or waves written out,
 * `eu;us,ap` (regions not named go last, together). A wave may take a share of a region first,
 * `eu:1%;eu;us,ap`: the machines of eu in 1 % of it (by a hash of machine id and service, the
 * same ones every time), then the rest of eu, then us and ap.
 */
export type WavePlanSetting = string;

/**
 * The waves of a deploy: explicit ones, else one wave of the requested regions, else the
 * service's own plan (`servicePlan`), else the default plan. Each wave is a list of `eu` or
 * `eu:25%` (planRegions gives the regions).
 */
export function planWaves(options: { setting: WavePlanSetting; configured: readonly string[]; requested?: string[] | undefined; explicit?: string[][] | undefined; servicePlan?: { service: string; plan: string } | null | undefined }): string[][] {
  const { configured } = options;
  if (options.explicit && options.explicit.length > 0) {
    const { waves, unfinished } = checkWaves(options.explicit, configured, 'the request');
    // A region named only by a share is finished in one more wave: a deployment never ends on a canary.
    return unfinished.length > 0 ? [...waves, unfinished] : waves;
  }
  if (options.requested && options.requested.length > 0) return checkWaves([options.requested], configured, 'the request').waves;
  if (options.servicePlan) return defaultWaves(options.servicePlan.plan, configured, `the wave plan of service ${options.servicePlan.service}`, 'INVALID_INPUT');
  return defaultWaves(options.setting, configured);
}

/**
 * The waves a deploy to every region would roll out in, for status and previews: the service's
 * own plan, or the default one when that plan no longer fits the configured regions (a deploy
 * is then refused, saying why; status must still answer).
 */
export function previewWaves(setting: WavePlanSetting, configured: readonly string[], servicePlan: { service: string; plan: string } | null): string[][] {
  try {
    return planWaves({ setting, configured, servicePlan });
  } catch (err) {
    if (!isFleetcastError(err, 'INVALID_INPUT')) throw err;
    return defaultWaves(setting, configured);
  }
}

/** The regions a plan deploys to, each once, in the order first named. */
export function planRegions(plan: string[][]): string[] {
  return [...new Set(plan.flat().map((token) => parseWaveTarget(token, 'the plan').region))];
}

/** The default plan, checked against the configured regions (a bad setting stops the coordinator at start). */
export function defaultWaves(setting: WavePlanSetting, configured: readonly string[], source = 'FLEETCAST_DEPLOY_WAVES', code: 'INVALID_INPUT' | 'CONFIG_INVALID' = 'CONFIG_INVALID'): string[][] {
  if (setting === 'all' || (configured.length === 1 && !setting.includes(':'))) return [[...configured]];
  if (setting === 'canary') return [[configured[0]!], configured.slice(1)];
  const waves = setting.split(';').map((wave) => wave.trim());
  if (waves.some((wave) => wave === '')) {
    throw new FleetcastError(code, `${source}=${JSON.stringify(setting)}: write canary, all, or waves of regions such as eu;us,ap or eu:1%;eu;us,ap`, { setting });
  }
  const named = checkWaves(
    waves.map((wave) => wave.split(',')),
    configured,
    source,
    code,
  ).waves;
  const whole = new Set(named.flat().filter((token) => !token.includes(':')));
  // Regions not named, and those named only by a share, go last, together.
  const rest = configured.filter((region) => !whole.has(region));
  return rest.length > 0 ? [...named, rest] : named;
}

/** Checked and normalised waves (`eu`, `eu:25%`), and the regions named only by a share. */
function checkWaves(waves: string[][], configured: readonly string[], source: string, code: 'INVALID_INPUT' | 'CONFIG_INVALID' = 'INVALID_INPUT'): { waves: string[][]; unfinished: string[] } {
  // Per region: the share it reached so far, or `whole` once a wave took all of it.
  const reached = new Map<string, number | 'whole'>();
  const checked: string[][] = [];
  for (const wave of waves) {
    const inWave = new Set<string>();
    const tokens: string[] = [];
    for (const target of wave.map((token) => parseWaveTarget(token, source, code))) {
      const { region, share } = target;
      if (!configured.includes(region)) {
        throw new FleetcastError(code, `${source} names region ${region}, which is not configured: the regions are ${configured.join(', ')}`, { region, configured });
      }
      if (inWave.has(region)) throw new FleetcastError(code, `${source} names region ${region} twice in one wave`, { region });
      const before = reached.get(region);
      if (before === 'whole') {
        throw new FleetcastError(code, `${source} names region ${region} twice${share === null ? '' : ` (${region}:${share}% after all of it)`}; each region belongs to one wave, and shares of it may come before it (such as ${region}:5%;${region})`, { region });
      }
      if (before !== undefined && share !== null && share <= before) {
        throw new FleetcastError(code, `${source}: the shares of ${region} must grow from wave to wave (${before}% then ${share}%)`, { region, shares: [before, share] });
      }
      inWave.add(region);
      reached.set(region, share ?? 'whole');
      tokens.push(formatWaveTarget(target));
    }
    if (tokens.length > 0) checked.push(tokens);
  }
  if (checked.length === 0) throw new FleetcastError(code, `${source} names no region`, {});
  return { waves: checked, unfinished: [...reached].filter(([, share]) => share !== 'whole').map(([region]) => region) };
}

export function newWaves(plan: string[][]): Wave[] {
  return plan.map((tokens) => {
    const targets = tokens.map((token) => parseWaveTarget(token, 'the plan'));
    const shares = Object.fromEntries(targets.flatMap((t) => (t.share === null ? [] : [[t.region, t.share] as const])));
    return { regions: targets.map((t) => t.region), ...(Object.keys(shares).length > 0 ? { shares } : {}), status: 'PENDING' as const, writtenAt: null, doneAt: null, goals: {} };
  });
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
  const raw = JSON.parse(text) as { regions: string[]; shares?: Record<string, number>; status: WaveStatus; writtenAt: string | null; doneAt: string | null; goals?: Record<string, SignedGoalRecord>; promotedBy?: string; gate?: WaveGateRecord }[];
  return raw.map((w) => ({
    regions: w.regions,
    ...(w.shares ? { shares: w.shares } : {}),
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
  // A region may be in several waves (a share of it, then all of it): the last one written counts.
  const containing = waves.filter((wave) => wave.regions.includes(region));
  const wave = [...containing].reverse().find((w) => w.goals[region] !== undefined) ?? containing[0];
  const signed = wave?.goals[region];
  return { build, digest: signed?.digest ?? null, seq: signed?.seq ?? null, share: signed ? (wave!.shares?.[region] ?? null) : null };
}
