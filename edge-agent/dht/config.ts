import { defaultDhtAddress, loadConfig, type ConfigSources, type SettingValues } from '../../config/index.ts';

export const dhtSettings = ['FLEETCAST_LISTEN', 'FLEETCAST_LOG_LEVEL'] as const;

export type DhtConfig = SettingValues<(typeof dhtSettings)[number]>;

/** The DHT node listens on hyperdht's usual port unless told otherwise (FLEETCAST_LISTEN's own default is the coordinator's). */
export function loadDhtConfig(sources: ConfigSources = {}): DhtConfig {
  const env = sources.env ?? process.env;
  return loadConfig(dhtSettings, { ...sources, env: { ...env, FLEETCAST_LISTEN: env.FLEETCAST_LISTEN || defaultDhtAddress } });
}
