import { loadConfig, type ConfigSources, type SettingValues } from '../config/index.ts';

export const builderSettings = [
  'FLEETCAST_DATA_DIR',
  'FLEETCAST_DATABASE_URL',
  'FLEETCAST_LOG_LEVEL',
  'FLEETCAST_BLOBSTORE',
  'FLEETCAST_BUCKET_PREFIX',
  'FLEETCAST_GCS_ENDPOINT',
  'FLEETCAST_GCS_PROJECT',
  'FLEETCAST_WORKER_ID',
  'FLEETCAST_WORKER_CONCURRENCY',
  'FLEETCAST_HEARTBEAT_INTERVAL',
  'FLEETCAST_BUILD_TIMEOUT',
  'FLEETCAST_MIN_FREE_DISK',
] as const;

export type BuilderConfig = SettingValues<(typeof builderSettings)[number]>;

export function loadBuilderConfig(sources?: ConfigSources): BuilderConfig {
  return loadConfig(builderSettings, sources);
}
