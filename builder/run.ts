import path from 'node:path';
import { openMainStore } from '../blobstore/from-config.ts';
import { warnUnlessLowMemoryEnv } from '../config/index.ts';
import { BuildQueue, QueueWorker, type Build, type BuildResult, type StopOptions } from '../queue/index.ts';
import { ServiceRegistry } from '../queue/services/index.ts';
import { Database, defaultSqlitePath } from '../entities/index.ts';
import { Teardown } from '../lifecycle/index.ts';
import { createLogger, type Logger } from '../logging/index.ts';
import { createBuildHandler } from './build-job.ts';
import { BuildSandbox } from './build-sandbox.ts';
import type { BuilderConfig } from './config.ts';
import { GitMirror } from './git-mirror.ts';
import { SecretMasker } from './secret-masker.ts';

export interface BuilderOverrides {
  logger?: Logger;
  /** Poll interval while the queue is empty. @defaultValue 1 s */
  pollIntervalMs?: number;
}

export interface BuilderHandle {
  worker: QueueWorker<Build, BuildResult>;
  /** `release: true` gives running builds back to the queue (SIGTERM); otherwise waits for them. */
  stop(options?: StopOptions): Promise<void>;
}

/** Wires a builder worker in one visible sequence; `stop()` undoes it in reverse. */
export async function runBuilder(config: BuilderConfig, overrides: BuilderOverrides = {}): Promise<BuilderHandle> {
  const workerId = config.FLEETCAST_WORKER_ID;
  const logger = overrides.logger ?? createLogger({ level: config.FLEETCAST_LOG_LEVEL, bindings: { role: 'worker', worker: workerId } });
  const teardown = new Teardown(logger);
  try {
    // Before anything else: a worker that cannot sandbox its builds must not claim one.
    const sandbox = await BuildSandbox.create(config.FLEETCAST_BUILD_SANDBOX);
    const db = await Database.open({ url: config.FLEETCAST_DATABASE_URL, sqlitePath: defaultSqlitePath(config.FLEETCAST_DATA_DIR), logger });
    teardown.add('the database connection', () => db.close());
    const store = await openMainStore(config, logger);
    teardown.add('the main bucket', () => store.close());
    const services = new ServiceRegistry(db);
    const queue = new BuildQueue(db, services);
    const builderDir = path.join(config.FLEETCAST_DATA_DIR, 'builder');
    const handler = createBuildHandler({
      services,
      store,
      mirror: new GitMirror(path.join(builderDir, 'git'), { allowFile: config.FLEETCAST_GIT_ALLOW_FILE }),
      sandbox,
      secrets: () => SecretMasker.fromWorker(process.env, config.FLEETCAST_DATA_DIR),
      workDir: path.join(builderDir, 'workspaces', workerId),
      buildTimeoutMs: config.FLEETCAST_BUILD_TIMEOUT,
      minFreeDiskBytes: config.FLEETCAST_MIN_FREE_DISK,
    });
    const worker = new QueueWorker(queue.asWorkSource(), handler, {
      workerId,
      concurrency: config.FLEETCAST_WORKER_CONCURRENCY,
      heartbeatIntervalMs: config.FLEETCAST_HEARTBEAT_INTERVAL,
      pollIntervalMs: overrides.pollIntervalMs ?? 1_000,
      logger,
    });
    worker.start();
    // How the worker stops depends on why (SIGTERM gives its builds back): stop() says.
    let stopOptions: StopOptions | undefined;
    teardown.add('the queue worker', () => worker.stop(stopOptions));
    warnUnlessLowMemoryEnv(logger, 'worker');
    logger.info({ database: db.location, bucket: store.bucket, concurrency: config.FLEETCAST_WORKER_CONCURRENCY, sandbox: sandbox.kind }, 'worker ready');

    return {
      worker,
      async stop(options) {
        stopOptions = options;
        await teardown.run();
        logger.info('worker stopped');
      },
    };
  } catch (err) {
    await teardown.run();
    throw err;
  }
}
