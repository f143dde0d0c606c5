import path from 'node:path';
import { blobStoreSettings } from '../../blobstore/from-config.ts';
import { loadConfig, type ConfigSources, type SettingValues } from '../../config/index.ts';
import { p2pFetcherSettings } from '../p2p/p2p-config.ts';

/** What `fleetcast agent` reads: where its region's goals, status and bucket are, and how it runs builds. */
export const agentSettings = [
  ...blobStoreSettings,
  'FLEETCAST_LOG_LEVEL',
  'FLEETCAST_REGION',
  'FLEETCAST_MACHINE',
  'FLEETCAST_NATS_URL',
  'FLEETCAST_NATS_CREDS',
  'FLEETCAST_NATS_CA',
  'FLEETCAST_GOAL_PUBLIC_KEYS',
  'FLEETCAST_STATUS_INTERVAL',
  'FLEETCAST_AGENT_DIR',
  'FLEETCAST_AGENT_SERVICES',
  'FLEETCAST_AGENT_CACHE_BUILDS',
  'FLEETCAST_AGENT_MIN_FREE_DISK',
  'FLEETCAST_AGENT_HEALTH_GRACE',
  'FLEETCAST_AGENT_HEALTH_TIMEOUT',
  'FLEETCAST_AGENT_BUCKET_FALLBACK',
  'FLEETCAST_AGENT_SEEDER_WAIT',
  'FLEETCAST_AGENT_BUCKET_RATE',
  'FLEETCAST_AGENT_RUN_HOOK',
  'FLEETCAST_AGENT_LOG_MAX',
  'FLEETCAST_AGENT_LOG_KEEP',
  'FLEETCAST_AGENT_STOP_SERVICES',
  'FLEETCAST_SERVICE_USER',
  'FLEETCAST_AGENT_P2P',
  ...p2pFetcherSettings.filter((name) => name !== 'FLEETCAST_REGION'),
] as const;

export type AgentConfig = SettingValues<(typeof agentSettings)[number]>;

export function loadAgentConfig(sources?: ConfigSources): AgentConfig {
  return loadConfig(agentSettings, sources);
}

/** FLEETCAST_AGENT_DIR, else `<data dir>/agents/<region>-<machine>` (DESIGN.md: `up` uses `D/agents/<region>-<n>/`). */
export function agentDir(config: Pick<AgentConfig, 'FLEETCAST_AGENT_DIR' | 'FLEETCAST_DATA_DIR' | 'FLEETCAST_REGION' | 'FLEETCAST_MACHINE'>): string {
  return config.FLEETCAST_AGENT_DIR ?? path.join(config.FLEETCAST_DATA_DIR, 'agents', `${config.FLEETCAST_REGION}-${config.FLEETCAST_MACHINE}`);
}
