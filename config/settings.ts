import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { durationMs } from './duration.ts';

const regionName = /^[a-z0-9-]+$/;

/**
 * Every setting fleetcast reads, by environment variable. Each is also a flag of the role that
 * uses it (`FLEETCAST_DATABASE_URL` ↔ `--database-url`). Defaults are those of DESIGN.md.
 */
export const settings = {
  FLEETCAST_DATA_DIR: z.string().min(1).default(path.join(os.homedir(), '.fleetcast')),
  FLEETCAST_DATABASE_URL: z
    .string()
    .regex(/^mysql:\/\/[^/]+\/[A-Za-z0-9_$-]+(\?.*)?$/, 'must look like mysql://user:pass@host:port/db')
    .optional(),
  FLEETCAST_REGIONS: z
    .string()
    .default('local')
    .transform((text) => text.split(',').map((region) => region.trim()).filter(Boolean))
    .pipe(
      z
        .array(z.string().regex(regionName, 'region names are lower-case letters, digits and dashes'))
        .min(1, 'name at least one region')
        .refine((regions) => new Set(regions).size === regions.length, 'a region is named twice'),
    ),
  FLEETCAST_LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
  /** How often a worker proves it is alive while it holds a claim. */
  FLEETCAST_HEARTBEAT_INTERVAL: durationMs.default(5_000),
  /** A claim whose last heartbeat is older than this is taken back by the reaper. */
  FLEETCAST_HEARTBEAT_TIMEOUT: durationMs.default(30_000),
  /** A build running longer than this is failed as timed out. */
  FLEETCAST_BUILD_TIMEOUT: durationMs.default(15 * 60_000),
  /** Claims of one build before a lost worker fails it for good. */
  FLEETCAST_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(100).default(3),
  /** How often the reaper looks for stale claims. */
  FLEETCAST_REAPER_INTERVAL: durationMs.default(5_000),
} as const;

export type SettingName = keyof typeof settings;
type Settings = typeof settings;
export type SettingValues<K extends SettingName> = { [P in K]: z.output<Settings[P]> };

/** `FLEETCAST_DATABASE_URL` → `--database-url`. */
export function flagName(setting: SettingName): string {
  return '--' + setting.replace(/^FLEETCAST_/, '').toLowerCase().replaceAll('_', '-');
}

/** One line per setting, for `--help`. */
export const settingHelp: Record<SettingName, string> = {
  FLEETCAST_DATA_DIR: 'where this installation keeps its state (default ~/.fleetcast)',
  FLEETCAST_DATABASE_URL: 'mysql://user:pass@host:port/db (default: SQLite in the data dir)',
  FLEETCAST_REGIONS: 'comma-separated region names (default local)',
  FLEETCAST_LOG_LEVEL: 'trace|debug|info|warn|error|fatal|silent (default info)',
  FLEETCAST_HEARTBEAT_INTERVAL: 'how often a worker heartbeats its build (default 5s)',
  FLEETCAST_HEARTBEAT_TIMEOUT: 'a build without a heartbeat this long is taken back (default 30s)',
  FLEETCAST_BUILD_TIMEOUT: 'a build running longer fails as timed out (default 15m)',
  FLEETCAST_MAX_ATTEMPTS: 'claims of a build before lost workers fail it (default 3)',
  FLEETCAST_REAPER_INTERVAL: 'time between reaper sweeps (default 5s)',
};
