import fs from 'node:fs';
import path from 'node:path';
import { Agent, fetch } from 'undici';
import { ensurePrivateDir, lowMemoryEnv, tightenSecretFile } from '../config/index.ts';
import { p2pIdentityEnv } from './p2p-identities.ts';
import { natsCredsEnv, natsIdentityRegistry } from './nats-identities.ts';
import { FleetcastError } from '../errors/index.ts';
import { ensureSigningKeyFiles } from '../trust/index.ts';
import type { Logger } from '../logging/index.ts';
import { freePort } from '../ops/nats/free-port.ts';
import { LocalNatsCluster } from '../ops/nats/local-cluster.ts';
import { ensureLocalTls } from '../ops/nats/local-tls.ts';
import { checkPrerequisites } from './prerequisites.ts';
import { RoleProcess, type RoleSpec } from './role-process.ts';
import { removeUpFile, writeUpFile, type UpFile } from './up-file.ts';

export interface UpOptions {
  /** Everything of the installation lives here (FLEETCAST_DATA_DIR of every process). */
  dir: string;
  /** @defaultValue ['eu', 'us', 'ap'] */
  regions?: string[];
  /** Agents (simulated machines) per region. @defaultValue 2 */
  agentsPerRegion?: number;
  /** Builder workers. @defaultValue 2 */
  workers?: number;
  /** Seeders per region. @defaultValue 1 */
  seedersPerRegion?: number;
  /**
   * High availability: the NATS hub and each region as 3-server JetStream clusters with every
   * bucket replicated 3 times (FLEETCAST_NATS_REPLICAS=3), every process given the list of its
   * servers, and a second coordinator on its own port. @defaultValue false
   */
  ha?: boolean;
  /**
   * FLEETCAST_* settings given to every process (a database URL, GCS…); those `up` decides
   * (data dir, regions, addresses, NATS URLs) win.
   */
  env?: Record<string, string>;
  /** How long the processes get to become ready. @defaultValue 90_000 */
  readyTimeoutMs?: number;
  /** Each role's log in files of `maxBytes`, `keep` of them. @defaultValue 10 MiB, 5 files */
  log?: { maxBytes: number; keep: number };
  logger: Logger;
}

export interface UpHandle {
  dir: string;
  file: UpFile;
  processes: RoleProcess[];
  cluster: LocalNatsCluster;
  /** Stops every process (agents first, the NATS servers last) and removes up.json. */
  stop(): Promise<void>;
}

/** Servers per NATS cluster with --ha: three is the smallest JetStream cluster that survives losing one. */
const haServers = 3;

/** Settings that make a one-machine installation feel quick; a user's own settings win. */
const localDefaults: Record<string, string> = {
  FLEETCAST_HEARTBEAT_INTERVAL: '2s',
  FLEETCAST_HEARTBEAT_TIMEOUT: '15s',
  FLEETCAST_STATUS_INTERVAL: '5s',
  FLEETCAST_STATUS_SILENT_AFTER: '20s',
  FLEETCAST_AGENT_HEALTH_GRACE: '2s',
  FLEETCAST_AGENT_BUCKET_FALLBACK: '15s',
  FLEETCAST_AGENT_SEEDER_WAIT: '60s',
  FLEETCAST_MIN_FREE_DISK: '256M',
  // Local installations build from local repositories.
  FLEETCAST_GIT_ALLOW_FILE: 'true',
};

/**
 * A whole fleetcast installation on this machine: a NATS hub and one leaf per region (private
 * nats-server processes on free ports), a DHT bootstrap, the coordinator, builder workers,
 * seeders and agents per region — each a supervised `fleetcast` process restarted with
 * backoff when it dies. Once every process is ready it writes `<dir>/up.json`, which client
 * commands run with FLEETCAST_DATA_DIR=<dir> read to find the coordinator.
 */
export async function runUp(options: UpOptions): Promise<UpHandle> {
  const { logger } = options;
  const regions = options.regions ?? ['eu', 'us', 'ap'];
  const dir = path.resolve(options.dir);
  checkPrerequisites({ sandbox: (options.env?.FLEETCAST_BUILD_SANDBOX ?? process.env.FLEETCAST_BUILD_SANDBOX) !== 'none' });
  // The installation's directory holds every secret of it (tokens, keys, NATS passwords): this
  // user's alone, narrowed at start if an older run or a person left it open.
  const narrowed = [ensurePrivateDir(dir), ...['goal-signing.key', 'api-token', 'secret'].map((name) => tightenSecretFile(path.join(dir, name)))];
  for (const entry of narrowed) if (entry) logger.warn({ path: entry.path, was: entry.was, now: entry.now }, 'a private file or directory was readable by other users: narrowed');
  removeUpFile(dir); // a stale one from an installation that died must not send clients astray
  const logDir = path.join(dir, 'logs');

  // Every process its own NATS identity with only its role's subjects (fleetcast creds): issued
  // before the servers start, so their user lists hold them.
  const identities = natsIdentityRegistry(dir);
  const coordinatorCreds = natsCredsEnv(identities, { role: 'coordinator' });
  const seederCreds = new Map(regions.flatMap((region) => range(options.seedersPerRegion ?? 1).map((n) => [`${region}-${n}`, natsCredsEnv(identities, { role: 'seeder', region, machine: String(n) })] as const)));
  const agentCreds = new Map(regions.flatMap((region) => range(options.agentsPerRegion ?? 2).map((n) => [`${region}-${n}`, natsCredsEnv(identities, { role: 'agent', region, machine: `${region}-${n}` })] as const)));
  // TLS on every NATS client port, mutual TLS on the leaf links and TLS on the coordinator's API,
  // with a CA made once in <dir>/tls; clients trust it through up.json's `ca`.
  const tls = ensureLocalTls(path.join(dir, 'tls'));
  const trustingCa = new Agent({ connect: { ca: fs.readFileSync(tls.ca) } });
  const ha = options.ha ?? false;
  const cluster = await LocalNatsCluster.start({ regions, dir: path.join(dir, 'nats'), identities, tls, nodes: ha ? haServers : 1 });
  const processes: RoleProcess[] = [];
  let file: UpFile | undefined;
  // up.json names every pid: a restarted process gets its new one in.
  const onRestart = () => {
    if (!file) return;
    file.processes = processList(cluster, processes);
    writeUpFile(dir, file);
  };
  const natsWatch = new NatsWatch(cluster, regions, identities.file, logger, onRestart);
  const stop = async () => {
    natsWatch.stop();
    for (const process of processes) process.holdRestarts();
    // Agents first (they report their last state), the coordinator and the NATS servers last.
    for (const process of [...processes].reverse()) await process.stop();
    await cluster.stop();
    await trustingCa.close();
    removeUpFile(dir);
  };
  try {
    const apiPort = await freePort();
    const dhtPort = await freePort();
    const apiUrl = `https://127.0.0.1:${apiPort}`;
    // The second coordinator of --ha: the same database, hub and keys, its own port.
    const secondApiPort = ha ? await freePort() : undefined;
    const dht = `127.0.0.1:${dhtPort}`;
    // The goal-signing key: the coordinator signs every goal with the private key, every other
    // process trusts only its public key. Made once per installation directory.
    const goalKey = { private: path.join(dir, 'goal-signing.key'), public: path.join(dir, 'goal-signing.pub') };
    ensureSigningKeyFiles(goalKey.private, goalKey.public);
    const common = {
      FLEETCAST_LOG_LEVEL: 'info',
      ...localDefaults,
      ...options.env,
      ...lowMemoryEnv({ ...process.env, ...options.env }),
      FLEETCAST_DATA_DIR: dir,
      FLEETCAST_REGIONS: regions.join(','),
      FLEETCAST_DHT_BOOTSTRAP: dht,
      FLEETCAST_GOAL_PUBLIC_KEYS: goalKey.public,
      FLEETCAST_NATS_CA: tls.ca,
      ...(ha ? { FLEETCAST_NATS_REPLICAS: String(haServers) } : {}),
    };
    const coordinatorEnv = { ...common, FLEETCAST_NATS_URL: cluster.urls.hub, FLEETCAST_TLS_CERT: tls.apiCert, FLEETCAST_TLS_KEY: tls.apiKey, ...coordinatorCreds, FLEETCAST_GOAL_SIGNING_KEY: goalKey.private };
    const specs: RoleSpec[][] = [
      [
        { name: 'dht', role: 'dht', args: ['dht', '--listen', dht], env: common },
        {
          name: 'coordinator',
          role: 'coordinator',
          args: ['coordinator'],
          env: { ...coordinatorEnv, FLEETCAST_LISTEN: `127.0.0.1:${apiPort}` },
          ready: async () => (await fetch(`${apiUrl}/healthz`, { signal: AbortSignal.timeout(1_000), dispatcher: trustingCa })).ok,
        },
      ],
      [
        // Started once the first has migrated the database and created the buckets.
        ...(secondApiPort
          ? [
              {
                name: 'coordinator-2',
                role: 'coordinator',
                args: ['coordinator'],
                env: { ...coordinatorEnv, FLEETCAST_LISTEN: `127.0.0.1:${secondApiPort}` },
                ready: async () => (await fetch(`https://127.0.0.1:${secondApiPort}/healthz`, { signal: AbortSignal.timeout(1_000), dispatcher: trustingCa })).ok,
              } satisfies RoleSpec,
            ]
          : []),
        ...range(options.workers ?? 2).map((n): RoleSpec => ({ name: `worker-${n}`, role: 'worker', args: ['worker'], env: { ...common, FLEETCAST_WORKER_ID: `worker-${n}` } })),
        ...regions.flatMap((region) =>
          range(options.seedersPerRegion ?? 1).map((n): RoleSpec => ({
            name: `seeder-${region}-${n}`,
            role: 'seeder',
            region,
            args: ['seeder', '--region', region],
            env: {
              ...common,
              ...p2pIdentityEnv(dir, { role: 'seeder', region, name: `seeder-${region}-${n}`, machine: `seeder-${region}-${n}` }),
              FLEETCAST_NATS_URL: cluster.urls.agents[region]!,
              ...seederCreds.get(`${region}-${n}`),
              FLEETCAST_SEEDER_DIR: path.join(dir, 'seeders', `${region}-${n}`),
            },
          })),
        ),
        ...regions.flatMap((region) =>
          range(options.agentsPerRegion ?? 2).map((n): RoleSpec => ({
            name: `agent-${region}-${n}`,
            role: 'agent',
            region,
            machine: `${region}-${n}`,
            args: ['agent', '--region', region, '--machine', `${region}-${n}`],
            // The installation goes down with `up`: the agents take their services with them.
            env: {
              ...common,
              ...p2pIdentityEnv(dir, { role: 'agent', region, name: `agent-${region}-${n}`, machine: `${region}-${n}` }),
              FLEETCAST_NATS_URL: cluster.urls.agents[region]!,
              ...agentCreds.get(`${region}-${n}`),
              FLEETCAST_AGENT_DIR: path.join(dir, 'agents', `${region}-${n}`),
              FLEETCAST_AGENT_STOP_SERVICES: 'true',
            },
          })),
        ),
      ],
    ];
    // The DHT and the coordinator (which migrates the database and creates the buckets) first.
    for (const group of specs) {
      const started = group.map((spec) => new RoleProcess(spec, { logDir, logger, onRestart, ...(options.log ? { log: options.log } : {}) }));
      processes.push(...started);
      started.forEach((p) => p.start());
      await waitReady(started, options.readyTimeoutMs ?? 90_000);
    }
    natsWatch.start();
    const token = fs.readFileSync(path.join(dir, 'api-token'), 'utf8').trim();
    file = {
      apiUrl,
      token,
      regions,
      hub: cluster.urls.hub,
      leaves: cluster.urls.agents,
      hubServers: cluster.urls.hub.split(','),
      leafServers: Object.fromEntries(Object.entries(cluster.urls.agents).map(([region, urls]) => [region, urls.split(',')])),
      apiUrls: [apiUrl, ...(secondApiPort ? [`https://127.0.0.1:${secondApiPort}`] : [])],
      ca: tls.ca,
      processes: processList(cluster, processes),
    };
    writeUpFile(dir, file);
    logger.info({ dir, apiUrl, processes: processes.length }, 'fleetcast up: every process is ready');
    return { dir, file, processes, cluster, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

async function waitReady(processes: RoleProcess[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const states = await Promise.all(processes.map((p) => p.checkReady()));
    if (states.every(Boolean)) return;
    if (Date.now() > deadline) {
      const late = processes.filter((_, i) => !states[i]);
      throw new FleetcastError(
        'INTERNAL',
        `not ready within ${timeoutMs / 1000} s: ${late.map((p) => `${p.spec.name} (${p.restarts} restarts; log ${p.logFile})`).join(', ')} — read the log for the reason`,
        { processes: late.map((p) => p.spec.name) },
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/**
 * Restarts a NATS server of the installation that died, as it does for the fleetcast processes,
 * and has the servers reload their users when `fleetcast creds` changed the identity registry.
 */
class NatsWatch {
  private timer: NodeJS.Timeout | undefined;
  private busy = false;
  private registryStamp: number | undefined;

  constructor(
    private readonly cluster: LocalNatsCluster,
    private readonly regions: string[],
    private readonly registryFile: string,
    private readonly logger: Logger,
    private readonly onRestart: () => void,
  ) {}

  start(): void {
    this.registryStamp = this.stamp();
    this.timer = setInterval(() => void this.check(), 1_000);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private async check(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      for (const node of range(this.cluster.nodes)) {
        if (this.cluster.hubRunning(node)) continue;
        this.logger.warn({ node }, 'a NATS hub server exited; restarting it');
        await this.cluster.startHub(node);
        this.onRestart();
      }
      for (const region of this.regions) {
        for (const node of range(this.cluster.nodes)) {
          if (this.cluster.leafRunning(region, node)) continue;
          this.logger.warn({ region, node }, `a NATS leaf server of ${region} exited; restarting it`);
          await this.cluster.startLeaf(region, node);
          this.onRestart();
        }
      }
      const stamp = this.stamp();
      if (stamp !== this.registryStamp) {
        await this.cluster.reloadUsers();
        this.registryStamp = stamp;
        this.logger.info({ registry: this.registryFile }, 'the NATS identities changed: the servers reloaded their users');
      }
    } catch (err) {
      this.logger.error({ err }, 'restarting a NATS server or reloading its users failed; trying again in a second');
    } finally {
      this.busy = false;
    }
  }

  private stamp(): number | undefined {
    return fs.statSync(this.registryFile, { throwIfNoEntry: false })?.mtimeMs;
  }
}

function processList(cluster: LocalNatsCluster, processes: RoleProcess[]): UpFile['processes'] {
  return [
    ...cluster.processes(),
    ...processes.map((p) => ({ role: p.spec.role, ...(p.spec.region ? { region: p.spec.region } : {}), ...(p.spec.machine ? { machine: p.spec.machine } : {}), pid: p.pid ?? 0 })),
  ];
}

function range(count: number): number[] {
  return Array.from({ length: count }, (_, i) => i + 1);
}
