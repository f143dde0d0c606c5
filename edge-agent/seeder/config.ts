import path from 'node:path';
import { blobStoreSettings } from '../../blobstore/from-config.ts';
import { loadConfig, type ConfigSources, type SettingValues } from '../../config/index.ts';

export const seederSettings = [
  ...blobStoreSettings,
  'FLEETCAST_LOG_LEVEL',
  'FLEETCAST_REGION',
  'FLEETCAST_NATS_URL',
  'FLEETCAST_NATS_CREDS',
  'FLEETCAST_NATS_CA',
  'FLEETCAST_GOAL_PUBLIC_KEYS',
  'FLEETCAST_SECRET',
  'FLEETCAST_DHT_BOOTSTRAP',
  'FLEETCAST_P2P_IDENTITY',
  'FLEETCAST_P2P_CA_KEYS',
  'FLEETCAST_P2P_HOST',
  'FLEETCAST_P2P_PORT',
  'FLEETCAST_P2P_UPLOAD_LIMIT',
  'FLEETCAST_P2P_MAX_PEERS',
  'FLEETCAST_SEEDER_DIR',
  'FLEETCAST_SEEDER_PREHEAT',
  'FLEETCAST_SEEDER_SCAN_EVERY',
] as const;

export type SeederConfig = SettingValues<(typeof seederSettings)[number]>;

export function loadSeederConfig(sources?: ConfigSources): SeederConfig {
  return loadConfig(seederSettings, sources);
}

/** FLEETCAST_SEEDER_DIR, else `<data dir>/seeder/<region>` (one folder per region a machine seeds). */
export function seederDir(config: SeederConfig): string {
  return config.FLEETCAST_SEEDER_DIR ?? path.join(config.FLEETCAST_DATA_DIR, 'seeder', config.FLEETCAST_REGION);
}
