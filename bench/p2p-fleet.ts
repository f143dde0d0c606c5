import { p2pIdentityEnv } from '../up/p2p-identities.ts';
// The processes of the P2P benchmark: a private NATS hub and leaves, a DHT bootstrap, one seeder
// process per region (bench/p2p-seeder-process.ts: runSeeder, as `fleetcast seeder`), and
// `fleetcast agent` processes (the compiled executable, as users run it) with per-machine P2P
// caps, so loopback behaves like a network of capped links.
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { artifactObjectName, FsBlobStore, regionBucketName } from '../blobstore/index.ts';
import { lowMemoryEnv } from '../config/index.ts';
import { DhtBootstrap } from '../edge-agent/index.ts';
import { coreKey, GoalWriter, type GoalContent } from '../goalstate/index.ts';
import { testGoalKeys, type TestGoalKeys } from '../test/support/goal-keys.ts';
import type { SeederStatus } from '../edge-agent/index.ts';
import { sampleGoal } from '../test/support/sample-goal.ts';
import { TestNatsCluster } from '../test/support/nats-cluster.ts';
import { spawnTs, type JsonProcess } from '../test/support/processes.ts';

export interface Caps {
  /** Bytes per second, null: no limit. */
  seederUp: number | null;
  agentUp: number | null;
  agentDown: number | null;
}

/**
 * Where a process of the fleet runs: a network namespace (bench/swarm: one per host) and the
 * address its P2P sockets bind to there. Without one, the process runs here on 127.0.0.1.
 */
export interface HostNet {
  namespace: string;
  address: string;
}

export interface BenchArtifact {
  service: string;
  build: string;
  file: string;
  size: number;
  digest: string;
  goal(region: string, overrides?: Partial<GoalContent>): GoalContent;
}

export interface BenchAgent {
  region: string;
  machine: string;
  dir: string;
  process: JsonProcess;
  service: string;
}

/** One status line of a seeder process (SeederStatus as JSON). */
export type SeederStatusLine = Omit<SeederStatus, 'failed'> & { at: number };

export interface Seeder {
  region: string;
  process: JsonProcess;
  status(): SeederStatusLine | undefined;
  /** `core of build … made` log lines: bytes and ms of each core made from the bucket. */
  coresMade(): { build: string; bytes: number; ms: number }[];
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function until<T>(check: () => T | undefined | false, timeoutMs: number, what: string, everyMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

export class P2PBenchFleet {
  readonly secret = randomBytes(32).toString('hex');
  private readonly seeders = new Map<string, Seeder>();
  private readonly agents = new Set<BenchAgent>();
  private readonly stores = new Map<string, FsBlobStore>();
  private builds = 0;

  private constructor(
    readonly dir: string,
    readonly cluster: TestNatsCluster,
    readonly writer: GoalWriter,
    readonly dht: DhtBootstrap,
    /** The goal-signing key the writer signs with; seeders and agents trust its public key file. */
    readonly keys: TestGoalKeys,
  ) {}

  /** `host`: the address NATS and the DHT bootstrap listen on (default 127.0.0.1). */
  static async start(dir: string, regions: string[], host = '127.0.0.1'): Promise<P2PBenchFleet> {
    fs.mkdirSync(dir, { recursive: true });
    const cluster = await TestNatsCluster.start(regions, { host });
    const keys = testGoalKeys(path.join(dir, 'keys'));
    const writer = await GoalWriter.connect({ url: cluster.urls.hub, regions, signingKey: keys.signingKey, keyring: keys.keyring });
    await writer.ensureBuckets();
    const dht = await DhtBootstrap.start({ host, port: 0 });
    return new P2PBenchFleet(dir, cluster, writer, dht, keys);
  }

  async store(region: string): Promise<FsBlobStore> {
    let store = this.stores.get(region);
    if (!store) {
      store = await FsBlobStore.open({ root: path.join(this.dir, 'buckets'), bucket: regionBucketName(region), fsync: false });
      this.stores.set(region, store);
    }
    return store;
  }

  /** A build of `size` random bytes of `service`, in the bucket of every region given. */
  async artifact(service: string, size: number, regions: string[]): Promise<BenchArtifact> {
    const n = ++this.builds;
    const file = path.join(this.dir, 'sources', `${service}-b${n}`);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const hash = createHash('sha256');
    const fd = fs.openSync(file, 'w');
    for (let written = 0; written < size; ) {
      const chunk = randomBytes(Math.min(8 << 20, size - written));
      hash.update(chunk);
      fs.writeSync(fd, chunk);
      written += chunk.length;
    }
    fs.closeSync(fd);
    const digest = hash.digest('hex');
    const artifact = artifactObjectName(service, n, digest);
    for (const region of regions) await (await this.store(region)).put(artifact, fs.createReadStream(file, { highWaterMark: 1 << 20 }), { sha256: digest, size });
    const p2pKey = coreKey(this.secret, digest);
    return {
      service,
      build: `b${n}`,
      file,
      size,
      digest,
      goal: (region, overrides = {}) => sampleGoal(service, region, n, { digest, size, artifact, p2pKey, fileName: service, deployment: `d${n}`, ...overrides }),
    };
  }

  startSeeder(region: string, uploadLimit: number | null, net?: HostNet): Seeder {
    const env = {
      FLEETCAST_LOG_LEVEL: 'info',
      FLEETCAST_DATA_DIR: this.dir,
      FLEETCAST_REGION: region,
      FLEETCAST_NATS_URL: this.cluster.urls.leaves[region]!,
      FLEETCAST_GOAL_PUBLIC_KEYS: this.keys.publicFile,
      FLEETCAST_SECRET: this.secret,
      FLEETCAST_DHT_BOOTSTRAP: this.dht.listen,
      FLEETCAST_SEEDER_DIR: path.join(this.dir, 'seeders', region),
      ...p2pIdentityEnv(this.dir, { role: 'seeder', region, name: `seeder-${region}`, machine: null }),
      // The newest build of each service is made into a core as soon as it is in the bucket,
      // as replication then preheating do before a deploy: distribution is timed from the goal.
      FLEETCAST_SEEDER_PREHEAT: '1',
      FLEETCAST_SEEDER_SCAN_EVERY: '1s',
      ...lowMemoryEnv(),
      ...(uploadLimit === null ? {} : { FLEETCAST_P2P_UPLOAD_LIMIT: String(uploadLimit) }),
      ...hostEnv(net),
    };
    const child = spawnTs('bench/p2p-seeder-process.ts', env, [], launcher(net));
    const seeder: Seeder = {
      region,
      process: child,
      status: () => child.events.at(-1) as SeederStatusLine | undefined,
      coresMade: () =>
        child.stderr.flatMap((line) => {
          try {
            const entry = JSON.parse(line) as { msg?: string; bytes?: number; ms?: number; build?: string };
            return typeof entry.msg === 'string' && /^core of build .* made$/.test(entry.msg) ? [{ build: entry.build ?? '', bytes: entry.bytes ?? 0, ms: entry.ms ?? 0 }] : [];
          } catch {
            return [];
          }
        }),
    };
    this.seeders.set(region, seeder);
    return seeder;
  }

  seeder(region: string): Seeder {
    return this.seeders.get(region)!;
  }

  /** Waits until the region's seeder serves the build's core. */
  async seeding(region: string, build: string, timeoutMs: number): Promise<void> {
    const seeder = this.seeder(region);
    await until(() => {
      if (seeder.process.child.exitCode !== null) throw new Error(`the seeder of ${region} exited: ${seeder.process.stderr.slice(-5).join('\n')}`);
      return seeder.status()?.seeding.some((s) => s.build === build);
    }, timeoutMs, `the seeder of ${region} to serve ${build}`);
  }

  /** Bytes of the build the region's seeder uploaded (its status is at most 200 ms old). */
  async seederEgress(region: string, build: string): Promise<number> {
    await sleep(600);
    return this.seeder(region).status()?.seeding.find((s) => s.build === build)?.uploadedBytes ?? 0;
  }

  /** A `fleetcast agent` process with the given caps, running `service` only; resolves once ready. */
  async startAgent(region: string, machine: string, service: string, caps: Pick<Caps, 'agentUp' | 'agentDown'>, net?: HostNet): Promise<BenchAgent> {
    const dir = path.join(this.dir, 'agents', `${region}-${machine}`);
    const child = spawnTs(
      'bin/fleetcast.js',
      {
        FLEETCAST_LOG_LEVEL: 'info',
        FLEETCAST_DATA_DIR: this.dir,
        FLEETCAST_REGION: region,
        FLEETCAST_MACHINE: machine,
        FLEETCAST_NATS_URL: this.cluster.urls.agents[region]!,
        FLEETCAST_GOAL_PUBLIC_KEYS: this.keys.publicFile,
        FLEETCAST_AGENT_DIR: dir,
        FLEETCAST_AGENT_SERVICES: service,
        FLEETCAST_AGENT_P2P: 'true',
        FLEETCAST_DHT_BOOTSTRAP: this.dht.listen,
        ...p2pIdentityEnv(this.dir, { role: 'agent', region, name: `agent-${machine}`, machine }),
        // Peers only: a fall back to the bucket would hide a swarm that does not deliver.
        FLEETCAST_AGENT_BUCKET_FALLBACK: '30m',
        FLEETCAST_AGENT_MIN_FREE_DISK: '1M',
        FLEETCAST_AGENT_STOP_SERVICES: 'true',
        FLEETCAST_EXIT_WITH_PARENT: '1',
        // As the systemd unit and `fleetcast up` start it.
        ...lowMemoryEnv(),
        ...(caps.agentUp === null ? {} : { FLEETCAST_P2P_UPLOAD_LIMIT: String(caps.agentUp) }),
        ...(caps.agentDown === null ? {} : { FLEETCAST_P2P_DOWNLOAD_LIMIT: String(caps.agentDown) }),
        ...hostEnv(net),
      },
      ['agent', '--region', region, '--machine', machine],
      launcher(net),
    );
    const agent: BenchAgent = { region, machine, dir, process: child, service };
    this.agents.add(agent);
    await until(() => {
      if (child.child.exitCode !== null) throw new Error(`agent ${machine} exited: ${child.stderr.slice(-5).join('\n')}`);
      return child.stderr.some((line) => line.includes('agent ready'));
    }, 60_000, `agent ${machine} to be ready`);
    return agent;
  }

  async stopAgents(agents: BenchAgent[]): Promise<void> {
    for (const agent of agents) agent.process.kill('SIGTERM');
    await Promise.all(agents.map((agent) => agent.process.exited));
    for (const agent of agents) {
      this.agents.delete(agent);
      fs.rmSync(agent.dir, { recursive: true, force: true });
    }
  }

  async deploy(goal: GoalContent): Promise<void> {
    const revision = (await this.writer.get(goal.service, goal.region))?.revision ?? null;
    await this.writer.put(goal, { expectedRevision: revision });
  }

  async close(): Promise<void> {
    await this.stopAgents([...this.agents]).catch(() => undefined);
    for (const seeder of this.seeders.values()) seeder.process.kill('SIGTERM');
    await Promise.all([...this.seeders.values()].map((s) => s.process.exited));
    for (const store of this.stores.values()) await store.close();
    await this.writer.close();
    await this.dht.close();
    await this.cluster.stop();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

function hostEnv(net: HostNet | undefined): Record<string, string> {
  return net ? { FLEETCAST_P2P_HOST: net.address } : {};
}

function launcher(net: HostNet | undefined): string[] {
  return net ? ['ip', 'netns', 'exec', net.namespace] : [];
}

/** Where the agent keeps the build, and whether it is installed (current points at it). */
export function installed(agent: BenchAgent, build: string): boolean {
  try {
    return fs.readlinkSync(path.join(agent.dir, 'services', agent.service, 'current')) === `builds/${build}`;
  } catch {
    return false;
  }
}

/** The agent's `.verified` mark of the build: how many bytes came from peers and from the bucket. */
export function fetchedOf(agent: BenchAgent, build: string): { fromPeers: number; fromBucket: number } {
  const mark = JSON.parse(fs.readFileSync(path.join(agent.dir, 'services', agent.service, 'builds', build, '.verified'), 'utf8')) as { fetched?: { fromPeers: number; fromBucket: number } };
  return mark.fetched ?? { fromPeers: 0, fromBucket: 0 };
}

export function builtFile(agent: BenchAgent, build: string): string {
  return path.join(agent.dir, 'services', agent.service, 'builds', build, agent.service);
}
