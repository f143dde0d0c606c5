import { defaultSqlitePath, Database } from '../entities/index.ts';
import { createLogger, type Logger } from '../logging/index.ts';
import type { CoordinatorConfig } from './config.ts';
import { BuildQueue, Reaper } from './queue/index.ts';
import { ServiceRegistry } from './services/index.ts';

export interface CoordinatorOverrides {
  logger?: Logger;
}

export interface CoordinatorHandle {
  db: Database;
  queue: BuildQueue;
  services: ServiceRegistry;
  stop(): Promise<void>;
}

/** Wires the coordinator in one visible sequence; `stop()` undoes it in reverse. */
export async function runCoordinator(config: CoordinatorConfig, overrides: CoordinatorOverrides = {}): Promise<CoordinatorHandle> {
  const logger = overrides.logger ?? createLogger({ level: config.FLEETCAST_LOG_LEVEL, bindings: { role: 'coordinator' } });
  const db = await Database.open({
    url: config.FLEETCAST_DATABASE_URL,
    sqlitePath: defaultSqlitePath(config.FLEETCAST_DATA_DIR),
    logger,
  });
  const services = new ServiceRegistry(db);
  const queue = new BuildQueue(db, services, { maxAttempts: config.FLEETCAST_MAX_ATTEMPTS });
  const reaper = new Reaper(db, {
    heartbeatTimeoutMs: config.FLEETCAST_HEARTBEAT_TIMEOUT,
    buildTimeoutMs: config.FLEETCAST_BUILD_TIMEOUT,
    intervalMs: config.FLEETCAST_REAPER_INTERVAL,
    logger,
  });
  reaper.start();
  logger.info({ database: db.location }, 'coordinator ready');

  return {
    db,
    queue,
    services,
    async stop() {
      await reaper.stop();
      await db.close();
      logger.info('coordinator stopped');
    },
  };
}
