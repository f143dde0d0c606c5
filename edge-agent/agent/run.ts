import { setTimeout as sleep } from 'node:timers/promises';
import type { BlobStore } from '../../blobstore/index.ts';
import { openRegionStore } from '../../blobstore/from-config.ts';
import { ensurePrivateDir, ensureTraversableDir, tightenSecretFile, warnUnlessLowMemoryEnv } from '../../config/index.ts';
import { isFleetcastError } from '../../errors/index.ts';
import { connectNats, goalKeyring, RegionGoalView, StatusReporter, type GoalSeqStore, type GoalWatch, type NatsConnection, type NatsConnectOptions } from '../../goalstate/index.ts';
import type { VerifyingKeyring } from '../../trust/index.ts';
import { backoffDelay, Teardown } from '../../lifecycle/index.ts';
import { createLogger, type Logger } from '../../logging/index.ts';
import type { ArtifactFetcher } from '../fetch/artifact-fetcher.ts';
import { BucketFetcher } from '../fetch/bucket-fetcher.ts';
import { createArtifactFetcher } from '../fetch/create-artifact-fetcher.ts';
import { createP2PFetcher } from '../p2p/p2p-config.ts';
import type { FleetIdentity } from '../p2p/fleet-identity.ts';
import { RateLimiter } from '../limits/rate-limiter.ts';
import { Agent } from './agent.ts';
import { AgentLayout } from './agent-layout.ts';
import { AgentLock } from './agent-lock.ts';
import { BuildCache } from './build-cache.ts';
import { DiskGoalSeqStore } from './goal-seq-store.ts';
import { agentDir, type AgentConfig } from './config.ts';
import { HookRunner } from './hook-runner.ts';
import type { ServiceRunner } from './service-runner.ts';
import { StatusRelay } from './status-relay.ts';
import { resolveServiceUser } from './service-user.ts';
import { SupervisedRunner, type SupervisedRunnerOptions } from './supervised-runner.ts';

export interface AgentOverrides {
  logger?: Logger;
  /** The regional bucket. @defaultValue opened from the blob-store settings */
  store?: BlobStore;
  /** How bytes arrive. @defaultValue createArtifactFetcher over the bucket (and the P2P fetcher once it exists) */
  fetcher?: ArtifactFetcher;
  /** A fetcher tried before the bucket, with FLEETCAST_AGENT_BUCKET_FALLBACK behind it; null: none. @defaultValue the P2P fetcher, when FLEETCAST_AGENT_P2P */
  peerFetcher?: ArtifactFetcher | null;
  /** The P2P fetcher's fleet identity. @defaultValue read from FLEETCAST_P2P_IDENTITY and FLEETCAST_P2P_CA_KEYS */
  p2pIdentity?: FleetIdentity;
  /** NATS connection settings other than the URL (tests: fast reconnects). */
  connect?: Omit<NatsConnectOptions, 'url' | 'role' | 'logger'>;
  /** Supervisor timings (stop grace, restart pauses). */
  supervisor?: SupervisedRunnerOptions;
  /** Pauses before a failed goal is tried again. */
  retry?: { minMs?: number; maxMs?: number };
  /** Between two requests to a health URL. @defaultValue 500 */
  healthPollMs?: number;
  /** Progress reports of one build at most this often. @defaultValue 1_000 */
  progressIntervalMs?: number;
}

export interface AgentHandle {
  agent: Agent;
  /** The agent dir. */
  dir: string;
  /** Resolves once the region's goals were read (the leaf answered); rejects on a configuration error (wrong leaf, bad credentials). */
  ready: Promise<void>;
  /** Stops in reverse; `stopServices` (default false) also stops the services' processes instead of leaving them for the next agent. */
  stop(options?: { stopServices?: boolean }): Promise<void>;
}

/**
 * Wires an agent in one visible sequence; `stop()` undoes it in reverse. The services on disk
 * are restored (kept running) before NATS is touched, and NATS is connected in the
 * background: a machine that boots while its leaf is down runs its builds all the same.
 */
export async function runAgent(config: AgentConfig, overrides: AgentOverrides = {}): Promise<AgentHandle> {
  const region = config.FLEETCAST_REGION;
  const machine = config.FLEETCAST_MACHINE;
  const logger = overrides.logger ?? createLogger({ level: config.FLEETCAST_LOG_LEVEL, bindings: { role: 'agent', region, machine } });
  // Checked before anything starts: an agent without trusted keys would apply nothing, ever.
  const keyring = goalKeyring(config.FLEETCAST_GOAL_PUBLIC_KEYS, 'an agent');
  const dir = agentDir(config);
  const layout = new AgentLayout(dir);
  const serviceUser = await resolveServiceUser(config.FLEETCAST_SERVICE_USER, logger);
  // The agent's directory (its P2P identity, its cache, its services' logs) is its user's alone;
  // with a service user, others may pass through it (0711) to the builds, listing nothing.
  const narrowed = serviceUser ? ensureTraversableDir(dir) : ensurePrivateDir(dir);
  if (narrowed) logger.warn({ dir, was: narrowed.was, now: narrowed.now }, 'the agent directory was readable by other users: narrowed');
  if (serviceUser) {
    ensurePrivateDir(layout.p2pDir);
    for (const file of [config.FLEETCAST_NATS_CREDS, config.FLEETCAST_P2P_IDENTITY]) {
      const tightened = file === undefined ? null : tightenSecretFile(file);
      if (tightened) logger.warn(tightened, `${tightened.path} was readable by other users: narrowed`);
    }
    logger.info({ serviceUser: serviceUser.name, uid: serviceUser.uid, gid: serviceUser.gid }, `services run as ${serviceUser.name} (uid ${serviceUser.uid})`);
  }
  const teardown = new Teardown(logger);
  try {
    const lock = await AgentLock.acquire(layout.lockFile);
    teardown.add('the agent lock', () => lock.release());
    const ownStore = overrides.store ? undefined : await openRegionStore(config, region, logger);
    if (ownStore) teardown.add('the regional bucket', () => ownStore.close());
    const store = overrides.store ?? ownStore!;
    const rate = config.FLEETCAST_AGENT_BUCKET_RATE;
    // Peers first (cores kept under <agent dir>/p2p, seeded to the region while kept), the bucket behind them.
    const peers =
      overrides.fetcher || overrides.peerFetcher === null || (overrides.peerFetcher === undefined && !config.FLEETCAST_AGENT_P2P)
        ? null
        : (overrides.peerFetcher ?? (await createP2PFetcher(config, { storageDir: layout.p2pDir, logger, ...(overrides.p2pIdentity ? { identity: overrides.p2pIdentity } : {}) })));
    const fetcher =
      overrides.fetcher ??
      createArtifactFetcher({
        bucket: new BucketFetcher({ store, limiter: new RateLimiter(rate > 0 ? rate : null), logger }),
        peers,
        fallbackAfterMs: config.FLEETCAST_AGENT_BUCKET_FALLBACK,
        firstPeerWithinMs: config.FLEETCAST_AGENT_SEEDER_WAIT,
        logger,
      });
    if (!overrides.fetcher) teardown.add('the fetcher', () => fetcher.close());
    const status = new StatusRelay(logger);
    const runnerFor = (service: string): ServiceRunner => {
      const identity = { service, region, machine };
      const serviceLogger = logger.child({ service });
      const log = { maxBytes: config.FLEETCAST_AGENT_LOG_MAX, keep: config.FLEETCAST_AGENT_LOG_KEEP };
      return config.FLEETCAST_AGENT_RUN_HOOK
        ? new HookRunner(identity, layout, { hook: config.FLEETCAST_AGENT_RUN_HOOK, log }, serviceLogger)
        : new SupervisedRunner(identity, layout, { log, serviceUser, ...overrides.supervisor }, serviceLogger);
    };
    const agent = new Agent(
      { region, machine, services: config.FLEETCAST_AGENT_SERVICES, layout, cache: new BuildCache(layout, logger), fetcher, status, runnerFor, logger },
      {
        cacheBuilds: config.FLEETCAST_AGENT_CACHE_BUILDS,
        minFreeBytes: config.FLEETCAST_AGENT_MIN_FREE_DISK,
        health: { graceMs: config.FLEETCAST_AGENT_HEALTH_GRACE, timeoutMs: config.FLEETCAST_AGENT_HEALTH_TIMEOUT, pollMs: overrides.healthPollMs },
        retryMinMs: overrides.retry?.minMs,
        retryMaxMs: overrides.retry?.maxMs,
      },
    );
    // Services outlive the agent unless stop() is told otherwise (a failed start leaves them be).
    let stopServices = false;
    teardown.add('the agent', () => agent.stop({ stopServices }));
    await agent.start();

    const goals = new GoalConnection(config, overrides, logger, keyring, new DiskGoalSeqStore(layout));
    teardown.add('the goal connection', async () => {
      await goals.close();
      status.detach();
    });
    const ready = goals.open(agent, status);
    ready.then(
      () => logger.info({ region: config.FLEETCAST_REGION }, 'agent ready'),
      (err: unknown) => logger.fatal({ err }, `the agent cannot read its region's goals: ${(err as Error).message}`),
    );
    logger.info({ dir, services: config.FLEETCAST_AGENT_SERVICES ?? 'all', bucket: store.bucket, goalKeys: keyring.keyIds() }, 'agent started');
    warnUnlessLowMemoryEnv(logger, 'agent');

    return {
      agent,
      dir,
      ready,
      async stop(options = {}) {
        stopServices = options.stopServices ?? false;
        await teardown.run();
        logger.info('agent stopped');
      },
    };
  } catch (err) {
    await teardown.run();
    throw err;
  }
}

/**
 * The agent's one NATS connection (to its region's leaf), its goal view and watch, and its
 * status reporter — opened in the background, tried again until the leaf answers.
 */
class GoalConnection {
  private nc: NatsConnection | undefined;
  private view: RegionGoalView | undefined;
  private reporter: StatusReporter | undefined;
  private watch: GoalWatch | undefined;
  private closed = false;

  constructor(
    private readonly config: AgentConfig,
    private readonly overrides: AgentOverrides,
    private readonly logger: Logger,
    private readonly keyring: VerifyingKeyring,
    private readonly seqStore: GoalSeqStore,
  ) {}

  open(agent: Agent, status: StatusRelay): Promise<void> {
    return this.connect(agent, status);
  }

  /** Every await may come back after close(): each step checks, and close() shuts what exists. */
  private async connect(agent: Agent, status: StatusRelay): Promise<void> {
    const { config, overrides, logger } = this;
    const region = config.FLEETCAST_REGION;
    const url = config.FLEETCAST_NATS_URL;
    const connect = { ...overrides.connect, name: `fleetcast-agent-${region}-${config.FLEETCAST_MACHINE}`, ...(config.FLEETCAST_NATS_CREDS ? { credsFile: config.FLEETCAST_NATS_CREDS } : {}), ...(config.FLEETCAST_NATS_CA ? { caFile: config.FLEETCAST_NATS_CA } : {}) };
    // Waits for the leaf however long it takes: agents start before their leaf at boot.
    const nc = await connectNats({ ...connect, url, role: `the NATS leaf of region ${region}`, waitForServer: true, logger });
    if (this.closed) {
      await nc.close();
      return;
    }
    this.nc = nc;
    for (let attempt = 1; !this.closed; attempt++) {
      try {
        this.view = await RegionGoalView.connect({ url, region, keyring: this.keyring, connection: nc, connect, logger });
        this.reporter = await StatusReporter.connect({ url, region, machine: config.FLEETCAST_MACHINE, connection: nc, connect, intervalMs: config.FLEETCAST_STATUS_INTERVAL, progressIntervalMs: overrides.progressIntervalMs, logger });
        break;
      } catch (err) {
        // A wrong leaf or refused credentials will not heal by waiting.
        if (isFleetcastError(err, 'CONFIG_INVALID') || isFleetcastError(err, 'FORBIDDEN')) throw err;
        await this.view?.close();
        this.view = undefined;
        if (attempt % 10 === 1) logger.warn({ err, attempt }, `cannot open the goal state of region ${region} yet; trying again`);
        await sleep(backoffDelay(attempt + 1, { initialMs: 100, maxMs: 5_000 }));
      }
    }
    if (this.closed || !this.view || !this.reporter) return;
    status.attach(this.reporter);
    this.watch = this.view.watch(config.FLEETCAST_AGENT_SERVICES, agent.onGoal, {
      onError: agent.onRefusedGoal,
      onPrefetch: agent.onPrefetch,
      seqStore: this.seqStore,
      maxRetryMs: overrides.connect?.maxReconnectDelayMs,
    });
    await this.watch.ready;
    if (!this.closed) logger.info({ region }, `reading the goals of region ${region}`);
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.watch?.stop();
    await this.reporter?.close();
    await this.view?.close();
    if (this.nc && !this.nc.isClosed()) await this.nc.close();
  }
}
