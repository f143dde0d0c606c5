import path from 'node:path';
import { openFleetStores } from '../blobstore/from-config.ts';
import { loadClusterSecret } from '../config/index.ts';
import { defaultSqlitePath, Database } from '../entities/index.ts';
import { createLogger, type Logger } from '../logging/index.ts';
import { ApiServer, ensureLocalToken, PermissionsReloader, readPermissionsFile, ServiceAccess, SlackGroupMembers, TokenStore, warnPlaintext, type BuildLogSource } from './api/index.ts';
import type { CoordinatorConfig } from './config.ts';
import { tightenCoordinatorData } from './private-data.ts';
import { BlobBuildLogs } from './blob-build-logs.ts';
import { BuildQueue, Reaper } from '../queue/index.ts';
import { ReplicationService, type ReplicationServiceOptions } from './replication/index.ts';
import { ServiceRegistry } from '../queue/services/index.ts';
import { AuditSpool, CommitHistory, DeployService, Leases, MetricGate, spoolDir } from './deploys/index.ts';
import { HubLink } from './fleet/hub-link.ts';
import { githubAuth, GithubRelay } from './github/index.ts';
import { MirrorCheck } from './fleet/mirror-check.ts';
import { coordinatorGoalKeys } from '../goalstate/index.ts';
import { PeriodicTask, Teardown } from '../lifecycle/index.ts';
import { ContinuousDeployer, DeliveryGuard, DeliverySettings, FreezeBook, PredeployCheck, systemClock, type Clock } from './delivery/index.ts';
import { ServerCertificate } from '../trust/index.ts';

/** Listen addresses only this machine reaches: plain HTTP on them sends no token over a network. */
const loopbackHosts = new Set(['127.0.0.1', 'localhost', '::1']);

export interface CoordinatorOverrides {
  logger?: Logger;
  /** Where GET /v1/builds/:id/log and log subscriptions read from. @defaultValue every log is empty */
  buildLogs?: BuildLogSource;
  /** How often each /v1/events subscription looks at its build. @defaultValue 300 */
  eventsPollMs?: number;
  /** Pacing of the replication loops, for tests. */
  replicationPacing?: ReplicationServiceOptions['pacing'];
  /** true: no NATS at all (deploys answer NATS_UNAVAILABLE), for tests of builds and replication. @defaultValue false */
  withoutNats?: boolean;
  /** Pace of the wave runner, and how often the hub is tried while it does not answer (tests). */
  wavesIntervalMs?: number;
  hubRetryMs?: number;
  /** How often records spooled while SQL was down are written to it. @defaultValue 5_000 */
  spoolFlushMs?: number;
  /** How long a goal mirror may go without hearing from the hub before it counts as stalled (tests). */
  mirrorStallAfterMs?: number;
  /** The time freeze windows are judged at (tests set it). @defaultValue the system clock */
  clock?: Clock;
  /** Pace of the GitHub relay's rounds and its first retry (tests). @defaultValue 2_000 each */
  githubIntervalMs?: number;
  githubRetryMs?: number;
}

export interface CoordinatorHandle {
  db: Database;
  queue: BuildQueue;
  services: ServiceRegistry;
  replication: ReplicationService;
  deploys: DeployService;
  /** The link to the NATS hub: `await hub.ready` resolves once deploys can write goals. */
  hub: HubLink;
  /** The check (and repair) of every region's goal mirror. */
  mirrors: MirrorCheck;
  /** Freeze windows, continuous deploy and pre-deploy checks (issue 23). */
  delivery: { freezes: FreezeBook; settings: DeliverySettings; continuous: ContinuousDeployer };
  /** The HTTP API, e.g. `http://127.0.0.1:7070` (with the real port when FLEETCAST_LISTEN asked for 0). */
  url: string;
  /** The admin token of this data directory (`<data dir>/api-token`). */
  adminToken: string;
  stop(): Promise<void>;
}

/**
 * Wires the coordinator in one visible sequence; `stop()` undoes it in reverse. Each step
 * registers its undo as soon as it has started, so a start that fails half-way (the API's port
 * taken, a bucket that does not open) closes what it opened: no reaper or database connection
 * is left behind.
 */
export async function runCoordinator(config: CoordinatorConfig, overrides: CoordinatorOverrides = {}): Promise<CoordinatorHandle> {
  const logger = overrides.logger ?? createLogger({ level: config.FLEETCAST_LOG_LEVEL, bindings: { role: 'coordinator' } });
  // Tokens first: a broken permissions file stops the start before anything else is touched.
  const permissions = config.FLEETCAST_PERMISSIONS === undefined ? null : readPermissionsFile(config.FLEETCAST_PERMISSIONS);
  if (permissions) warnPlaintext(permissions, config.FLEETCAST_PERMISSIONS!, logger);
  const localToken = ensureLocalToken(config.FLEETCAST_DATA_DIR, logger);
  const tokens = new TokenStore([localToken, ...(permissions?.tokens ?? [])]);
  // With the bot's Slack token the coordinator checks user-group grants of relayed requests itself.
  const slackGroups = config.FLEETCAST_SLACK_BOT_TOKEN ? new SlackGroupMembers(config.FLEETCAST_SLACK_API_URL, config.FLEETCAST_SLACK_BOT_TOKEN, logger) : null;
  const access = new ServiceAccess(permissions?.slack ?? null, slackGroups);
  // The goal-signing key and the keys its readers trust; a key file that cannot be read stops the start here.
  const goalKeys = coordinatorGoalKeys(config.FLEETCAST_GOAL_SIGNING_KEY, config.FLEETCAST_GOAL_PUBLIC_KEYS);
  if (!goalKeys.signingKey) logger.warn('FLEETCAST_GOAL_SIGNING_KEY is not set: this coordinator signs no goals, so deploys and rollbacks refuse (CONFIG_INVALID)');
  // The API's certificate: a missing file or a key of another certificate stops the start here.
  const apiCertificate = ServerCertificate.fromSettings(config);
  if (apiCertificate === null && !loopbackHosts.has(config.FLEETCAST_LISTEN.host)) {
    logger.warn({ listen: config.FLEETCAST_LISTEN }, 'the API listens beyond this machine without TLS: tokens cross the network in plaintext; set FLEETCAST_TLS_CERT and FLEETCAST_TLS_KEY');
  }
  // GitHub settings are checked before anything starts, like the permissions file.
  const githubSignIn = githubAuth(config);
  const teardown = new Teardown(logger);
  try {
    if (config.FLEETCAST_PERMISSIONS !== undefined) {
      const reloader = new PermissionsReloader(config.FLEETCAST_PERMISSIONS, [localToken], tokens, access, logger);
      reloader.start();
      teardown.add('the permissions file watch', () => reloader.stop());
    }
    const db = await Database.open({
      url: config.FLEETCAST_DATABASE_URL,
      sqlitePath: defaultSqlitePath(config.FLEETCAST_DATA_DIR),
      logger,
    });
    teardown.add('the database connection', () => db.close());
    tightenCoordinatorData(config, logger);
    const services = new ServiceRegistry(db);
    const queue = new BuildQueue(db, services, { maxAttempts: config.FLEETCAST_MAX_ATTEMPTS });
    const reaper = new Reaper(db, {
      heartbeatTimeoutMs: config.FLEETCAST_HEARTBEAT_TIMEOUT,
      buildTimeoutMs: config.FLEETCAST_BUILD_TIMEOUT,
      intervalMs: config.FLEETCAST_REAPER_INTERVAL,
      logger,
    });
    reaper.start();
    teardown.add('the reaper', () => reaper.stop());
    const stores = await openFleetStores(config, config.FLEETCAST_REGIONS, logger);
    teardown.add('the buckets', async () => {
      for (const store of [stores.main, ...Object.values(stores.regions)]) await store.close();
    });
    const replication = new ReplicationService(db, {
      regions: config.FLEETCAST_REGIONS,
      stores,
      workerId: config.FLEETCAST_WORKER_ID,
      concurrencyPerRegion: config.FLEETCAST_REPLICATION_CONCURRENCY,
      maxAttempts: config.FLEETCAST_REPLICATION_ATTEMPTS,
      auditEveryMs: config.FLEETCAST_AUDIT_EVERY,
      keepPerService: config.FLEETCAST_RETENTION_KEEP,
      heartbeatIntervalMs: config.FLEETCAST_HEARTBEAT_INTERVAL,
      heartbeatTimeoutMs: config.FLEETCAST_HEARTBEAT_TIMEOUT,
      ...(overrides.replicationPacing ? { pacing: overrides.replicationPacing } : {}),
      logger,
    });
    replication.start();
    teardown.add('replication', () => replication.stop());
    // Without the hub the coordinator still starts: builds and replication keep working, and the
    // link keeps trying in the background; deploys answer NATS_UNAVAILABLE until it is up.
    const hub = overrides.withoutNats
      ? HubLink.none()
      : HubLink.start({
          url: config.FLEETCAST_NATS_URL,
          credsFile: config.FLEETCAST_NATS_CREDS,
          caFile: config.FLEETCAST_NATS_CA,
          regions: config.FLEETCAST_REGIONS,
          goalHistory: config.FLEETCAST_GOAL_HISTORY,
          replicas: config.FLEETCAST_NATS_REPLICAS,
          silentAfterMs: config.FLEETCAST_STATUS_SILENT_AFTER,
          signingKey: goalKeys.signingKey,
          keyring: goalKeys.keyring,
          ...(overrides.hubRetryMs ? { retryMs: overrides.hubRetryMs } : {}),
          logger,
        });
    teardown.add('the NATS hub link', () => hub.close());
    const spool = new AuditSpool(spoolDir(config.FLEETCAST_DATA_DIR), logger);
    const clock = overrides.clock ?? systemClock;
    const freezes = new FreezeBook(db, services, clock);
    const deliverySettings = new DeliverySettings(db, services, clock);
    const guard = new DeliveryGuard(db, services, freezes, new PredeployCheck(config.FLEETCAST_BUILD_SANDBOX), { checkTimeoutMs: config.FLEETCAST_CHECK_TIMEOUT, clock, logger });
    let mirrors: MirrorCheck | undefined;
    const deploys = new DeployService(db, queue, services, replication.status, {
      regions: config.FLEETCAST_REGIONS,
      fleet: hub,
      mirrors: (region) => mirrors?.state(region) ?? null,
      spool,
      clusterSecret: loadClusterSecret(config.FLEETCAST_DATA_DIR, config.FLEETCAST_SECRET),
      wavePlan: config.FLEETCAST_DEPLOY_WAVES,
      prefetch: config.FLEETCAST_DEPLOY_PREFETCH,
      // Previews (--dry-run) list commits from the coordinator's own mirror of each repository.
      commits: new CommitHistory(path.join(config.FLEETCAST_DATA_DIR, 'commits'), { allowFile: config.FLEETCAST_GIT_ALLOW_FILE }),
      guard,
      // Shared with the other coordinators on this database: one steps each rollout, another takes over after the lease time.
      leases: new Leases(db, { ttlMs: config.FLEETCAST_ROLLOUT_LEASE }),
      waves: {
        maxFailedFraction: config.FLEETCAST_WAVE_MAX_FAILED,
        minDoneFraction: config.FLEETCAST_WAVE_MIN_DONE,
        timeoutMs: config.FLEETCAST_WAVE_TIMEOUT,
        soakMs: config.FLEETCAST_WAVE_SOAK,
        autoRollback: config.FLEETCAST_DEPLOY_AUTO_ROLLBACK,
        ...(config.FLEETCAST_PROMETHEUS_URL
          ? { metricGate: new MetricGate({ url: config.FLEETCAST_PROMETHEUS_URL, services, everyMs: config.FLEETCAST_PROMETHEUS_EVERY, graceMs: config.FLEETCAST_PROMETHEUS_GRACE, logger }) }
          : {}),
        ...(overrides.wavesIntervalMs ? { intervalMs: overrides.wavesIntervalMs } : {}),
      },
      logger,
    });
    deploys.runner.start();
    teardown.add('the wave runner', () => deploys.runner.stop());
    const continuous = new ContinuousDeployer(db, queue, services, replication.status, deploys, freezes, { intervalMs: config.FLEETCAST_CD_INTERVAL, clock, logger });
    if (!overrides.withoutNats) continuous.start();
    teardown.add('continuous deploy', () => continuous.stop());
    const delivery = { freezes, settings: deliverySettings, continuous };
    // Each region's goal mirror, checked against the hub and repaired (recreated as a mirror) where it can be.
    mirrors = new MirrorCheck({
      regions: config.FLEETCAST_REGIONS,
      connection: () => hub.connection(),
      everyMs: config.FLEETCAST_MIRROR_CHECK_EVERY,
      replicas: config.FLEETCAST_NATS_REPLICAS,
      ...(overrides.mirrorStallAfterMs ? { stallAfterMs: overrides.mirrorStallAfterMs } : {}),
      audit: (row) => deploys.record(row),
      logger,
    });
    if (!overrides.withoutNats) mirrors.start();
    teardown.add('the goal mirror check', () => mirrors!.stop());
    // Usually the hub answers at once: give it a moment so the API starts with deploys on.
    await Promise.race([hub.ready, new Promise((resolve) => setTimeout(resolve, 3_000).unref())]);
    // Records a rollback spooled while SQL was down reach SQL once it answers again.
    const spoolFlusher = new PeriodicTask('writing spooled audit records', overrides.spoolFlushMs ?? 5_000, () => spool.flush(db), logger);
    spoolFlusher.start();
    teardown.add('the audit spool flusher', () => spoolFlusher.stop());
    // GitHub hears about builds and deploys through an outbox: never in the way of either.
    const github = githubSignIn
      ? await GithubRelay.start(db, {
          auth: githubSignIn,
          apiUrl: config.FLEETCAST_GITHUB_API_URL,
          ...(overrides.githubIntervalMs ? { intervalMs: overrides.githubIntervalMs } : {}),
          ...(overrides.githubRetryMs ? { retryMs: overrides.githubRetryMs } : {}),
          logger,
        })
      : null;
    if (github) teardown.add('the GitHub relay', () => github.stop());
    const api = await ApiServer.start(
      { db, queue, services, tokens, access, replication, deploys, delivery, regions: config.FLEETCAST_REGIONS, fleet: { hub, mirrors }, logger },
      {
        host: config.FLEETCAST_LISTEN.host,
        port: config.FLEETCAST_LISTEN.port,
        webhookSecret: config.FLEETCAST_WEBHOOK_SECRET,
        webhookMaxBody: config.FLEETCAST_WEBHOOK_MAX_BODY,
        sessionTtlMs: config.FLEETCAST_DASHBOARD_SESSION_TTL,
        tls: apiCertificate,
        logs: overrides.buildLogs ?? new BlobBuildLogs(stores.main),
        ...(overrides.eventsPollMs ? { eventsPollMs: overrides.eventsPollMs } : {}),
      },
    );
    teardown.add('the HTTP API', () => api.close());
    logger.info({ database: db.location, api: api.url, goalSigningKey: goalKeys.signingKey?.current().keyId ?? null, goalKeys: goalKeys.keyring?.keyIds() ?? [] }, 'coordinator ready');

    return {
      db,
      queue,
      services,
      replication,
      deploys,
      hub,
      mirrors,
      delivery,
      url: api.url,
      adminToken: localToken.token,
      async stop() {
        await teardown.run();
        logger.info('coordinator stopped');
      },
    };
  } catch (err) {
    await teardown.run();
    throw err;
  }
}
