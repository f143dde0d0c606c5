// Reading the words of a slash command; a mistake is INVALID_INPUT with the command's usage.
import { FleetcastError } from '../../../errors/index.ts';
import { formatWaveTarget, parseWaveTarget, regionPattern, servicePattern } from '../../../goalstate/index.ts';
import { commands, type CommandName } from '../../messages/help.ts';

export function words(text: string): string[] {
  return text.trim().split(/\s+/).filter(Boolean);
}

export function usageError(command: CommandName, problem: string): FleetcastError {
  return new FleetcastError('INVALID_INPUT', `${problem}. Usage: \`${commands[command].usage}\` — ${commands[command].does}`, { command });
}

/** `b42` or `42` → `b42`. */
export function buildArg(command: CommandName, text: string | undefined): string {
  if (text === undefined) throw usageError(command, 'name a build');
  const match = /^b?([1-9]\d{0,15})$/i.exec(text);
  if (!match) throw usageError(command, `"${text.slice(0, 40)}" is not a build id (they look like b42)`);
  return `b${match[1]}`;
}

export function serviceArg(command: CommandName, text: string | undefined): string {
  if (text === undefined) throw usageError(command, 'name a service');
  if (!servicePattern.test(text)) throw usageError(command, `"${text.slice(0, 40)}" is not a service name (lower-case letters, digits and dashes)`);
  return text;
}

export function commitArg(command: CommandName, text: string | undefined): string {
  if (text === undefined) throw usageError(command, 'name a commit');
  if (!/^[0-9a-fA-F]{7,64}$/.test(text)) throw usageError(command, `"${text.slice(0, 70)}" is not a commit sha (7 to 64 hex characters, e.g. from git rev-parse HEAD)`);
  return text.toLowerCase();
}

/** `eu,us`, `eu us` or `eu, us`; undefined when none are named (every region). */
export function regionsArg(command: CommandName, texts: string[]): string[] | undefined {
  const regions = [...new Set(texts.join(',').split(',').map((r) => r.trim()).filter(Boolean))];
  if (regions.length === 0) return undefined;
  const bad = regions.filter((r) => !regionPattern.test(r));
  if (bad.length > 0) throw usageError(command, `${bad.map((r) => `"${r.slice(0, 40)}"`).join(', ')} ${bad.length === 1 ? 'is not a region name' : 'are not region names'}`);
  return regions;
}

/**
 * Where a deploy goes: every region (nothing named), these regions at once (`eu,us`), or waves
 * (`eu;us,ap`: eu first, then us and ap; `eu:1%;eu;us,ap`: 1 % of eu's machines first).
 */
export interface DeployTarget {
  regions?: string[];
  waves?: string[][];
}

export function deployTargetArg(command: CommandName, texts: string[]): DeployTarget {
  const text = texts.join(',');
  if (!text.includes(';') && !text.includes(':')) {
    const regions = regionsArg(command, texts);
    return regions ? { regions } : {};
  }
  // Only the words are read here; the coordinator judges the plan (regions, order of shares).
  const waves = text
    .split(';')
    .map((wave) => wave.split(',').map((token) => token.trim()).filter(Boolean))
    .filter((wave) => wave.length > 0)
    .map((wave) => wave.map((token) => waveTargetArg(command, token)));
  if (waves.length === 0) throw usageError(command, 'name a region');
  const whole = waves.flat().filter((token) => !token.includes(':'));
  if (new Set(whole).size !== whole.length) throw usageError(command, 'a region is named in two waves (a share of it, such as eu:5%, may come before the wave that takes all of it)');
  return { waves };
}

function waveTargetArg(command: CommandName, token: string): string {
  try {
    return formatWaveTarget(parseWaveTarget(token, 'the waves'));
  } catch (err) {
    throw usageError(command, (err as Error).message);
  }
}

/** The regions of waves (`eu:1%`, `eu`, `us`), each once. */
export function waveRegions(waves: string[][]): string[] {
  return [...new Set(waves.flat().map((token) => token.split(':')[0]!))];
}

/** Extra words where none belong. */
export function noMoreArgs(command: CommandName, rest: string[]): void {
  if (rest.length > 0) throw usageError(command, `unexpected "${rest.join(' ').slice(0, 60)}"`);
}
