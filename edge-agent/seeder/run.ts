import { openRegionStore } from '../../blobstore/from-config.ts';
import { loadClusterSecret, warnUnlessLowMemoryEnv } from '../../config/index.ts';
import { goalKeyring, RegionGoalView } from '../../goalstate/index.ts';
import { Teardown } from '../../lifecycle/index.ts';
import { createLogger, type Logger } from '../../logging/index.ts';
import { RateLimiter } from '../limits/rate-limiter.ts';
import { CoreStore } from '../p2p/core-store.ts';
import { loadFleetIdentity, type FleetIdentity } from '../p2p/fleet-identity.ts';
import { RegionSwarm } from '../p2p/region-swarm.ts';
import type { BlobStore } from '../../blobstore/index.ts';
import { seederDir, type SeederConfig } from './config.ts';
import { RegionalSeeder, type RegionalSeederOptions } from './regional-seeder.ts';

export interface SeederOverrides {
  logger?: Logger;
  /** The seeder's fleet identity. @defaultValue read from FLEETCAST_P2P_IDENTITY and FLEETCAST_P2P_CA_KEYS */
  identity?: FleetIdentity;
  /** First pause before a failed build is tried again. */
  retryMs?: RegionalSeederOptions['retryMs'];
  /** The regional bucket (the caller closes it). @defaultValue opened from the blob-store settings */
  store?: BlobStore;
}

export interface SeederHandle {
  seeder: RegionalSeeder;
  swarm: RegionSwarm;
  /** The seeder's cores (open ones carry their Hypercore). */
  cores: CoreStore;
  /** Where the cores are kept. */
  dir: string;
  stop(): Promise<void>;
}

/** Wires a regional seeder in one visible sequence; `stop()` undoes it in reverse. */
export async function runSeeder(config: SeederConfig, overrides: SeederOverrides = {}): Promise<SeederHandle> {
  const region = config.FLEETCAST_REGION;
  const logger = overrides.logger ?? createLogger({ level: config.FLEETCAST_LOG_LEVEL, bindings: { role: 'seeder', region } });
  const clusterSecret = loadClusterSecret(config.FLEETCAST_DATA_DIR, config.FLEETCAST_SECRET);
  const dir = seederDir(config);
  // A seeder serves only what the coordinator signed: without trusted keys it does not start.
  const keyring = goalKeyring(config.FLEETCAST_GOAL_PUBLIC_KEYS, 'a seeder');
  const teardown = new Teardown(logger);
  // Checked before anything opens: a seeder without a fleet identity cannot serve anyone.
  const identity = overrides.identity ?? loadFleetIdentity(config, 'seeder');
  try {
    const store = overrides.store ?? (await openRegionStore(config, region, logger));
    if (!overrides.store) teardown.add('the regional bucket', () => store.close());
    const goals = await RegionGoalView.connect({ url: config.FLEETCAST_NATS_URL, region, keyring, logger, connect: { name: `fleetcast-seeder-${region}`, ...(config.FLEETCAST_NATS_CREDS ? { credsFile: config.FLEETCAST_NATS_CREDS } : {}), ...(config.FLEETCAST_NATS_CA ? { caFile: config.FLEETCAST_NATS_CA } : {}) } });
    teardown.add('the goal view', () => goals.close());
    const swarm = await RegionSwarm.start({
      region,
      bootstrap: config.FLEETCAST_DHT_BOOTSTRAP,
      identity,
      host: config.FLEETCAST_P2P_HOST,
      port: config.FLEETCAST_P2P_PORT,
      maxPeers: config.FLEETCAST_P2P_MAX_PEERS,
      uploadLimiter: new RateLimiter(config.FLEETCAST_P2P_UPLOAD_LIMIT ?? null),
      logger,
    });
    teardown.add('the swarm', () => swarm.close());
    const cores = new CoreStore(dir);
    teardown.add('the cores', () => cores.close());
    const seeder = new RegionalSeeder({
      region,
      clusterSecret,
      store,
      goals,
      cores,
      swarm,
      preheatPerService: config.FLEETCAST_SEEDER_PREHEAT,
      scanEveryMs: config.FLEETCAST_SEEDER_SCAN_EVERY,
      retryMs: overrides.retryMs,
      logger,
    });
    await seeder.start();
    teardown.add('the seeder', () => seeder.stop());
    logger.info({ dir, bucket: store.bucket, bootstrap: config.FLEETCAST_DHT_BOOTSTRAP, goalKeys: keyring.keyIds() }, 'seeder ready');
    warnUnlessLowMemoryEnv(logger, 'seeder');
    return {
      seeder,
      swarm,
      cores,
      dir,
      async stop() {
        await teardown.run();
        logger.info('seeder stopped');
      },
    };
  } catch (err) {
    await teardown.run();
    throw err;
  }
}
