import { createHash } from 'node:crypto';
import { FleetcastError } from '../errors/index.ts';
import { regionPattern } from './names.ts';

/**
 * Canaries inside a region: a wave may name a share of a region (`eu:1%`). Which machines are
 * in it is decided by a hash of the service and the machine id, by the agents (from the signed
 * goal, which carries only the share) and by the coordinator (judging the wave on the machines
 * in the share) alike — so no goal key is written per machine, and the same machines canary a
 * service every time. Shares nest: every machine in 1 % is also in 5 %.
 */

/** Hash points fall in [0, 2^32): fine enough for 0.01 % of a region of millions of machines. */
const pointSpace = 2 ** 32;

/** Where a machine falls for a service: the first 32 bits of sha256(`<service>\n<machine>`). */
export function sharePoint(service: string, machine: string): number {
  return createHash('sha256').update(service).update('\n').update(machine).digest().readUInt32BE(0);
}

/** The machine is in `share` percent of its region for `service`. */
export function inShare(service: string, machine: string, share: number): boolean {
  // Rounded to the 0.01 % a share is written in, so 12.5 and 12.50 give one bound.
  return sharePoint(service, machine) < Math.round(share * 100) * (pointSpace / 10_000);
}

/** A share as written in a wave: more than 0, less than 100, at most two decimals. */
export function isValidShare(share: number): boolean {
  return Number.isFinite(share) && share > 0 && share < 100 && Math.abs(share * 100 - Math.round(share * 100)) < 1e-6;
}

/** One region of a wave: the whole region (`share` null) or a share of its machines. */
export interface WaveTarget {
  region: string;
  /** Percent of the region's machines, 0 < share < 100; null: all of them. */
  share: number | null;
}

const tokenPattern = /^([^:\s]+)(?::(\d{1,6}(?:\.\d{1,6})?)%)?$/;

/**
 * `eu` or `eu:25%` (a share: 0.01 % to 99.99 %, at most two decimals). A mistake is
 * INVALID_INPUT (or `code`) naming `source` and what to write instead.
 */
export function parseWaveTarget(token: string, source: string, code: 'INVALID_INPUT' | 'CONFIG_INVALID' = 'INVALID_INPUT'): WaveTarget {
  const text = token.trim();
  const match = tokenPattern.exec(text);
  const region = match?.[1] ?? text.split(':')[0]!;
  if (!regionPattern.test(region)) {
    throw new FleetcastError(code, `${source}: "${text.slice(0, 40)}" does not start with a region name (lower-case letters, digits and dashes); write a region (eu) or a share of one (eu:5%)`, { token: text.slice(0, 40) });
  }
  if (!match) {
    throw new FleetcastError(code, `${source}: "${text.slice(0, 40)}" is not a share of ${region}; write it as a percentage with at most two decimals, such as ${region}:5% or ${region}:0.5%`, { token: text.slice(0, 40) });
  }
  if (match[2] === undefined) return { region, share: null };
  const share = Number(match[2]);
  if (share <= 0 || share >= 100) {
    throw new FleetcastError(code, `${source}: "${text}" — a share is more than 0 % and less than 100 %; write ${region} alone for the whole region`, { token: text, share });
  }
  if (!isValidShare(share)) {
    throw new FleetcastError(code, `${source}: "${text}" — a share has at most two decimals (0.01 % is the finest), such as ${region}:0.05%`, { token: text, share });
  }
  return { region, share };
}

/** `eu` or `eu:25%`. */
export function formatWaveTarget(target: WaveTarget): string {
  return target.share === null ? target.region : `${target.region}:${target.share}%`;
}

/**
 * What is wrong with the syntax of a wave plan (FLEETCAST_DEPLOY_WAVES, a service's own plan):
 * `canary`, `all`, or waves of `eu` / `eu:5%` separated by `;`; null when it reads. Whether the
 * regions exist is checked where they are known (the coordinator).
 */
export function wavePlanProblem(plan: string): string | null {
  if (plan === 'canary' || plan === 'all') return null;
  const waves = plan.split(';').map((wave) => wave.trim());
  if (waves.some((wave) => wave === '')) return 'write canary, all, or waves of regions such as eu;us,ap or eu:1%;eu;us,ap';
  try {
    for (const wave of waves) for (const token of wave.split(',')) parseWaveTarget(token, 'the wave plan');
  } catch (err) {
    return (err as Error).message;
  }
  return null;
}
