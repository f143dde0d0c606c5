import { blobStoreSettings } from '../blobstore/from-config.ts';
import { loadConfig, type ConfigSources, type SettingValues } from '../config/index.ts';

export const coordinatorSettings = [
  ...blobStoreSettings,
  'FLEETCAST_DATABASE_URL',
  'FLEETCAST_LOG_LEVEL',
  'FLEETCAST_HEARTBEAT_TIMEOUT',
  'FLEETCAST_BUILD_TIMEOUT',
  'FLEETCAST_MAX_ATTEMPTS',
  'FLEETCAST_REAPER_INTERVAL',
  'FLEETCAST_LISTEN',
  'FLEETCAST_WEBHOOK_SECRET',
  'FLEETCAST_WEBHOOK_MAX_BODY',
  'FLEETCAST_PERMISSIONS',
  'FLEETCAST_SLACK_BOT_TOKEN',
  'FLEETCAST_SLACK_API_URL',
  'FLEETCAST_REGIONS',
  'FLEETCAST_WORKER_ID',
  'FLEETCAST_HEARTBEAT_INTERVAL',
  'FLEETCAST_REPLICATION_CONCURRENCY',
  'FLEETCAST_REPLICATION_ATTEMPTS',
  'FLEETCAST_AUDIT_EVERY',
  'FLEETCAST_RETENTION_KEEP',
  'FLEETCAST_NATS_URL',
  'FLEETCAST_NATS_CREDS',
  'FLEETCAST_NATS_CA',
  'FLEETCAST_GOAL_HISTORY',
  'FLEETCAST_NATS_REPLICAS',
  'FLEETCAST_GOAL_SIGNING_KEY',
  'FLEETCAST_GOAL_PUBLIC_KEYS',
  'FLEETCAST_MIRROR_CHECK_EVERY',
  'FLEETCAST_SECRET',
  'FLEETCAST_STATUS_SILENT_AFTER',
  'FLEETCAST_DEPLOY_WAVES',
  'FLEETCAST_DEPLOY_PREFETCH',
  'FLEETCAST_DEPLOY_AUTO_ROLLBACK',
  'FLEETCAST_WAVE_MAX_FAILED',
  'FLEETCAST_WAVE_MIN_DONE',
  'FLEETCAST_WAVE_TIMEOUT',
  'FLEETCAST_WAVE_SOAK',
] as const;

export type CoordinatorConfig = SettingValues<(typeof coordinatorSettings)[number]>;

export function loadCoordinatorConfig(sources?: ConfigSources): CoordinatorConfig {
  return loadConfig(coordinatorSettings, sources);
}

/** `fleetcast replicator`: copying only, scaled out of the coordinator. */
export const replicatorSettings = [
  ...blobStoreSettings,
  'FLEETCAST_DATABASE_URL',
  'FLEETCAST_LOG_LEVEL',
  'FLEETCAST_REGIONS',
  'FLEETCAST_WORKER_ID',
  'FLEETCAST_HEARTBEAT_INTERVAL',
  'FLEETCAST_REPLICATION_CONCURRENCY',
] as const;
