import type { SettingValues } from '../../config/index.ts';
import type { Logger } from '../../logging/index.ts';
import { loadFleetIdentity, type FleetIdentity } from './fleet-identity.ts';
import { P2PFetcher, type P2PFetcherOptions } from './p2p-fetcher.ts';

/** The settings of a machine's P2P presence; the agent's settings include them. */
export const p2pFetcherSettings = [
  'FLEETCAST_REGION',
  'FLEETCAST_DHT_BOOTSTRAP',
  'FLEETCAST_P2P_IDENTITY',
  'FLEETCAST_P2P_CA_KEYS',
  'FLEETCAST_P2P_HOST',
  'FLEETCAST_P2P_PORT',
  'FLEETCAST_P2P_UPLOAD_LIMIT',
  'FLEETCAST_P2P_DOWNLOAD_LIMIT',
  'FLEETCAST_P2P_MAX_PEERS',
] as const;

export type P2PFetcherConfig = SettingValues<(typeof p2pFetcherSettings)[number]>;

/** What the agent decides, not the settings: where cores live, logging, when to give up on peers. */
export type P2PFetcherExtras = Pick<P2PFetcherOptions, 'storageDir'> & Partial<Pick<P2PFetcherOptions, 'noDataTimeoutMs' | 'window' | 'logger' | 'identity'>>;

/** The P2P fetcher of an agent, from its validated settings (its identity read and checked first). */
export function createP2PFetcher(config: P2PFetcherConfig, extras: P2PFetcherExtras & { logger?: Logger }): Promise<P2PFetcher> {
  const identity: FleetIdentity = extras.identity ?? loadFleetIdentity(config, 'agent');
  return P2PFetcher.start({
    region: config.FLEETCAST_REGION,
    bootstrap: config.FLEETCAST_DHT_BOOTSTRAP,
    host: config.FLEETCAST_P2P_HOST,
    port: config.FLEETCAST_P2P_PORT,
    uploadLimit: config.FLEETCAST_P2P_UPLOAD_LIMIT ?? null,
    downloadLimit: config.FLEETCAST_P2P_DOWNLOAD_LIMIT ?? null,
    maxPeers: config.FLEETCAST_P2P_MAX_PEERS,
    ...extras,
    identity,
  });
}
