import { blobStoreSettings } from '../blobstore/from-config.ts';
import { loadConfig, type ConfigSources, type SettingValues } from '../config/index.ts';

export const builderSettings = [
  ...blobStoreSettings,
  'FLEETCAST_DATABASE_URL',
  'FLEETCAST_LOG_LEVEL',
  'FLEETCAST_WORKER_ID',
  'FLEETCAST_WORKER_CONCURRENCY',
  'FLEETCAST_HEARTBEAT_INTERVAL',
  'FLEETCAST_BUILD_TIMEOUT',
  'FLEETCAST_MIN_FREE_DISK',
  'FLEETCAST_BUILD_SANDBOX',
  'FLEETCAST_GIT_ALLOW_FILE',
] as const;

export type BuilderConfig = SettingValues<(typeof builderSettings)[number]>;

export function loadBuilderConfig(sources?: ConfigSources): BuilderConfig {
  return loadConfig(builderSettings, sources);
}
