import { loadConfig, type ConfigSources, type SettingValues } from '../config/index.ts';

export const coordinatorSettings = [
  'FLEETCAST_DATA_DIR',
  'FLEETCAST_DATABASE_URL',
  'FLEETCAST_LOG_LEVEL',
  'FLEETCAST_HEARTBEAT_TIMEOUT',
  'FLEETCAST_BUILD_TIMEOUT',
  'FLEETCAST_MAX_ATTEMPTS',
  'FLEETCAST_REAPER_INTERVAL',
  'FLEETCAST_LISTEN',
  'FLEETCAST_WEBHOOK_SECRET',
  'FLEETCAST_PERMISSIONS',
] as const;

export type CoordinatorConfig = SettingValues<(typeof coordinatorSettings)[number]>;

export function loadCoordinatorConfig(sources?: ConfigSources): CoordinatorConfig {
  return loadConfig(coordinatorSettings, sources);
}
