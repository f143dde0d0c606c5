import { openFleetStores } from '../blobstore/from-config.ts';
import { loadConfig, type ConfigSources } from '../config/index.ts';
import { Database, defaultSqlitePath } from '../entities/index.ts';
import { Teardown } from '../lifecycle/index.ts';
import { createLogger } from '../logging/index.ts';
import { replicatorSettings } from './config.ts';
import { ReplicationQueue, Replicator } from './replication/index.ts';

/**
 * `fleetcast replicator`: copies builds into the regional buckets, to scale copying out of the
 * coordinator (which also replicates unless FLEETCAST_REPLICATION_CONCURRENCY=0). Runs until
 * SIGTERM/SIGINT, then gives its copies in progress back to the queue.
 */
export async function main(sources: ConfigSources): Promise<void> {
  const config = loadConfig(replicatorSettings, sources);
  const logger = createLogger({ level: config.FLEETCAST_LOG_LEVEL, bindings: { role: 'replicator', worker: config.FLEETCAST_WORKER_ID } });
  const teardown = new Teardown(logger);
  try {
    const db = await Database.open({ url: config.FLEETCAST_DATABASE_URL, sqlitePath: defaultSqlitePath(config.FLEETCAST_DATA_DIR), logger });
    teardown.add('the database connection', () => db.close());
    const stores = await openFleetStores(config, config.FLEETCAST_REGIONS, logger);
    teardown.add('the buckets', async () => {
      for (const store of [stores.main, ...Object.values(stores.regions)]) await store.close();
    });
    const replicator = new Replicator({
      queue: new ReplicationQueue(db),
      main: stores.main,
      regions: stores.regions,
      workerId: config.FLEETCAST_WORKER_ID,
      concurrencyPerRegion: Math.max(1, config.FLEETCAST_REPLICATION_CONCURRENCY),
      heartbeatIntervalMs: config.FLEETCAST_HEARTBEAT_INTERVAL,
      logger,
    });
    replicator.start();
    // Copies in progress go back to the queue, for another replicator to finish.
    teardown.add('the replicator', () => replicator.stop({ release: true }));
    logger.info({ regions: config.FLEETCAST_REGIONS }, 'replicator ready');
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
  } finally {
    await teardown.run();
  }
}
