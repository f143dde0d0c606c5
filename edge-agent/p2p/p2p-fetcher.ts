import { createHash } from 'node:crypto';
import fsp from 'node:fs/promises';
import path from 'node:path';
import type { DhtNodeAddress } from 'hyperdht';
import { FleetcastError, isFleetcastError } from '../../errors/index.ts';
import type { GoalContent } from '../../goalstate/index.ts';
import { silentLogger, type Logger } from '../../logging/index.ts';
import type { ArtifactFetcher, FetchRequest, FetchResult, RetainedBuild } from '../fetch/artifact-fetcher.ts';
import { RateLimiter } from '../limits/rate-limiter.ts';
import type { ArtifactCore, CoreBuild } from './artifact-core.ts';
import { downloadBlocks } from './block-download.ts';
import { fetchTree } from './fetch-tree.ts';
import { PrefixHasher } from './prefix-hasher.ts';
import { blockLength, coreBlockSize } from '../../goalstate/index.ts';
import { CoreStore } from './core-store.ts';
import { diskFull, ensureSpace, isDiskFull } from './disk-space.ts';
import { FetchWatchdog } from './fetch-watchdog.ts';
import type { FleetIdentity } from './fleet-identity.ts';
import { RegionSwarm, type RejectedPeer } from './region-swarm.ts';

export interface P2PFetcherOptions {
  /** The machine's region: it meets that region's seeders and agents only. */
  region: string;
  /**
   * Where the fetcher keeps one core per build (about the artifact's size each). A fetch
   * interrupted by a crash resumes from it: only missing blocks are fetched again.
   */
  storageDir: string;
  /** DHT nodes (FLEETCAST_DHT_BOOTSTRAP). */
  bootstrap: DhtNodeAddress[];
  /** The machine's fleet identity (FLEETCAST_P2P_IDENTITY, FLEETCAST_P2P_CA_KEYS). */
  identity: FleetIdentity;
  /** Address of the P2P sockets (FLEETCAST_P2P_HOST). */
  host: string;
  /** Their port (FLEETCAST_P2P_PORT); 0: a free one. */
  port: number;
  /** Bytes per second uploaded to all peers together (FLEETCAST_P2P_UPLOAD_LIMIT). @defaultValue no limit */
  uploadLimit?: number | null;
  /** Bytes per second downloaded from all peers together (FLEETCAST_P2P_DOWNLOAD_LIMIT). @defaultValue no limit */
  downloadLimit?: number | null;
  /** P2P connections at most (FLEETCAST_P2P_MAX_PEERS). @defaultValue 64 */
  maxPeers?: number;
  /**
   * A fetch that received no block for this long (from its start, or since the last block)
   * fails with PEERS_UNAVAILABLE, so the agent can fall back to the regional bucket.
   * @defaultValue none: the fetch waits until its signal aborts
   */
  noDataTimeoutMs?: number;
  /** Blocks requested from peers at once. @defaultValue 8 (block-download.ts) */
  window?: number;
  /** A block request unanswered this long is also sent to another peer that holds the block. @defaultValue 10 s */
  stuckRequestMs?: number;
  /** @defaultValue a silent logger */
  logger?: Logger;
}

/** What the fetcher holds and serves, for status and tests. */
export interface P2PFetcherStatus {
  connections: number;
  /** Builds whose cores are served to the region's peers. */
  serving: { build: string; service: string; p2pKey: string; uploadedBytes: number; peersServed: number }[];
  rejectedPeers: RejectedPeer[];
}

/**
 * Fetches builds from the peers of the machine's region (seeders and other agents) over
 * Hypercore, and serves what it holds to them. Each block is verified against the core's signed
 * Merkle tree before it is stored; blocks reach `destination` in order, hashed as they are
 * written, so the whole-file sha256 is known when the last one lands — a mismatch with the goal's
 * digest is DIGEST_MISMATCH, and nothing unverified is ever reported as done.
 */
export class P2PFetcher implements ArtifactFetcher {
  private readonly cores: CoreStore;
  private readonly downloadLimiter: RateLimiter;
  private readonly logger: Logger;
  /** P2P keys with a fetch in progress (retain never drops them). */
  private readonly fetching = new Map<string, AbortController>();
  /** Opening, serving and dropping cores happen one at a time. */
  private lifecycle: Promise<unknown> = Promise.resolve();
  private closed = false;

  private constructor(
    private readonly options: P2PFetcherOptions,
    private readonly swarm: RegionSwarm,
  ) {
    this.cores = new CoreStore(options.storageDir);
    this.downloadLimiter = new RateLimiter(options.downloadLimit ?? null);
    this.logger = (options.logger ?? silentLogger()).child({ region: options.region });
  }

  static async start(options: P2PFetcherOptions): Promise<P2PFetcher> {
    await fsp.mkdir(options.storageDir, { recursive: true });
    const swarm = await RegionSwarm.start({
      region: options.region,
      bootstrap: options.bootstrap,
      identity: options.identity,
      host: options.host,
      port: options.port,
      maxPeers: options.maxPeers,
      uploadLimiter: new RateLimiter(options.uploadLimit ?? null),
      logger: options.logger,
    });
    return new P2PFetcher(options, swarm);
  }

  async fetch(request: FetchRequest): Promise<FetchResult> {
    if (this.closed) throw new FleetcastError('INTERNAL', 'the P2P fetcher is closed', {});
    const build = coreBuild(request.goal);
    const what = `build ${build.build} (${build.service}) in region ${this.options.region}`;
    if (this.fetching.has(build.p2pKey)) {
      throw new FleetcastError('CONFLICT', `${what} is being fetched already; wait for that fetch`, { build: build.build });
    }
    const stop = new AbortController();
    this.fetching.set(build.p2pKey, stop);
    const logger = this.logger.child({ build: build.build, service: build.service });
    try {
      if (build.size === 0) return await writeEmpty(request.destination, build);
      return await this.fetchCore(build, request, AbortSignal.any([request.signal, stop.signal]), what, logger);
    } finally {
      this.fetching.delete(build.p2pKey);
    }
  }

  /**
   * Keeps serving the retained builds whose cores were verified here (a restarted agent serves
   * them again), and deletes the cores of every other build — except those being fetched and
   * those of an unfinished fetch whose file is still on disk (the next fetch resumes them).
   */
  async retain(builds: RetainedBuild[]): Promise<void> {
    await this.exclusive(async () => {
      const keep = new Map<string, { build: CoreBuild; file: string }>();
      for (const { goal, file } of builds) if (goal.p2pKey !== null) keep.set(goal.p2pKey, { build: coreBuild(goal), file });
      for (const [key, { build, file }] of keep) {
        if (this.fetching.has(key) || !(await this.cores.exists(key))) continue;
        const core = await this.cores.open(build);
        if (await core.isVerified()) {
          // Served from the installed file itself (the build is stored once).
          await core.useFile(file, 'read');
          await this.swarm.serve(core);
        } else if (!this.swarm.isServing(core)) await this.cores.release(key);
      }
      for (const key of await this.cores.stored()) {
        if (keep.has(key) || this.fetching.has(key) || (await this.cores.unfinished(key))) continue;
        await this.unserve(key);
        await this.cores.drop(key);
        this.logger.info({ p2pKey: key }, 'dropped the core of a build this machine no longer keeps');
      }
    });
  }

  status(): Promise<P2PFetcherStatus> {
    return this.cores.openCores().then((cores) => ({
      connections: this.swarm.connections,
      serving: cores
        .filter((core) => this.swarm.isServing(core))
        .map((core) => ({ build: core.build.build, service: core.build.service, p2pKey: core.build.p2pKey, uploadedBytes: this.swarm.uploadedBytes(core), peersServed: this.swarm.peersServed(core) })),
      rejectedPeers: this.swarm.rejectedPeers(),
    }));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const stop of this.fetching.values()) stop.abort(new FleetcastError('INTERNAL', 'the P2P fetcher was closed during the fetch', {}));
    await this.exclusive(async () => {
      await this.swarm.close();
      await this.cores.close();
    });
  }

  private async fetchCore(build: CoreBuild, request: FetchRequest, signal: AbortSignal, what: string, logger: Logger): Promise<FetchResult> {
    const core = await this.exclusive(() => this.cores.open(build));
    // What the machine holds of the build: resumed blocks count, fetched ones are added as they come.
    const held = { blocks: 0, bytes: 0 };
    const watchdog = new FetchWatchdog({
      noDataTimeoutMs: this.options.noDataTimeoutMs,
      storageDir: path.dirname(request.destination),
      minFreeBytes: 2 * coreBlockSize,
      what,
      state: () => ({ peers: this.peersOf(core), held: held.blocks, blocks: core.blocks }),
    });
    const fetchSignal = AbortSignal.any([signal, watchdog.signal]);
    const report = () => !fetchSignal.aborted && request.onProgress?.({ bytes: held.bytes, total: build.size, peers: this.peersOf(core), source: 'peers' });
    let fromPeers = 0;
    try {
      await this.checkSpace(core, request.destination, what);
      await core.useFile(request.destination);
      await this.exclusive(() => this.swarm.serve(core, { client: true }));
      if (!core.tree) {
        await fetchTree(core, this.swarm, fetchSignal);
        this.swarm.reannounce(core);
      }
      held.blocks = core.have.count;
      for (let index = 0; index < core.blocks; index++) if (core.have.get(index)) held.bytes += blockLength(index, build.size);
      logger.info({ blocks: core.blocks, held: held.blocks, heldBytes: held.bytes }, `fetching ${what} from peers`);
      // The first report: a peer proved the build's signed tree (the fallback's seeder wait ends).
      report();
      const hasher = new PrefixHasher(core);
      await downloadBlocks(core, this.swarm, {
        limiter: this.downloadLimiter,
        window: this.options.window,
        stuckRequestMs: this.options.stuckRequestMs,
        signal: fetchSignal,
        onBlock: (index, data) => {
          fromPeers += data.byteLength;
          held.blocks += 1;
          held.bytes += data.byteLength;
          hasher.arrived(index, data);
          watchdog.progressed();
          report();
        },
      });
      const sha256 = await hasher.digest();
      await core.truncateFile();
      await core.sync();
      if (sha256 !== build.digest) {
        // Every block matched the signed tree: whoever holds the cluster secret signed other bytes.
        throw new FleetcastError(
          'DIGEST_MISMATCH',
          `${what}: the file assembled from its signed core has sha256 ${sha256}, the build has ${build.digest}; it is not installed. The core was signed from other bytes than the build's: check the seeders' buckets, then deploy again`,
          { build: build.build, expected: build.digest, actual: sha256 },
        );
      }
      await core.markVerified();
      // Served from here on read-only: the agent installs and runs this very file.
      await core.useFile(request.destination, 'read');
      logger.info({ bytesFromPeers: fromPeers, bytes: build.size, peers: this.peersOf(core) }, `fetched ${what}`);
      return { sha256, bytesFromPeers: fromPeers, bytesFromBucket: 0 };
    } catch (err) {
      // Stop serving an unverified build; keep its blocks for a later fetch (or, when another
      // fetcher resumes the file, only its verified prefix: the fetcher contract).
      await this.exclusive(async () => {
        await this.swarm.unserve(core);
        if (request.leavePrefix) await core.keepPrefix();
        await this.cores.release(build.p2pKey);
      }).catch(() => undefined);
      throw failure(err, signal, watchdog.signal, request.destination);
    } finally {
      watchdog.stop();
    }
  }

  /** Admitted peers that announced the core. */
  private peersOf(core: ArtifactCore): number {
    return this.swarm.blockSessions().filter((session) => session.remote(core) !== undefined).length;
  }

  private async checkSpace(core: ArtifactCore, destination: string, what: string): Promise<void> {
    const present = await fsp.stat(destination).then(
      (stat) => stat.size,
      () => 0,
    );
    // The blocks go into the file itself; the core's records are a few KiB.
    await ensureSpace([{ dir: path.dirname(destination), bytes: Math.max(0, core.build.size - present) }], `the fetch of ${what}`);
  }

  private async unserve(key: string): Promise<void> {
    for (const core of await this.cores.openCores()) if (core.build.p2pKey === key) await this.swarm.unserve(core);
  }

  private exclusive<T>(task: () => Promise<T>): Promise<T> {
    const run = this.lifecycle.then(task);
    this.lifecycle = run.catch(() => undefined);
    return run;
  }
}

/** The goal as the P2P layer sees it; a goal without a P2P key is the bucket fetcher's. */
function coreBuild(goal: GoalContent): CoreBuild {
  if (goal.p2pKey === null) {
    throw new FleetcastError('PEERS_UNAVAILABLE', `build ${goal.build} (${goal.service}) has no P2P core (its goal carries no p2pKey): fetch it from the regional bucket`, { build: goal.build });
  }
  return { service: goal.service, build: goal.build, digest: goal.digest, size: goal.size, p2pKey: goal.p2pKey };
}

/** The error a failed fetch reports: the watchdog's or the caller's reason first, a full disk as DISK_FULL. */
function failure(err: unknown, callerSignal: AbortSignal, watchdogSignal: AbortSignal, storageDir: string): unknown {
  if (callerSignal.aborted) return callerSignal.reason;
  if (watchdogSignal.aborted) return watchdogSignal.reason;
  if (isFleetcastError(err)) return err;
  if (isDiskFull(err)) return diskFull(storageDir, (err as Error).message, {}, err);
  return err;
}

async function writeEmpty(destination: string, build: CoreBuild): Promise<FetchResult> {
  const sha256 = createHash('sha256').digest('hex');
  if (sha256 !== build.digest) {
    throw new FleetcastError('DIGEST_MISMATCH', `build ${build.build} has 0 bytes but its digest ${build.digest} is not that of an empty file`, { build: build.build });
  }
  await fsp.mkdir(path.dirname(destination), { recursive: true });
  await fsp.writeFile(destination, '');
  return { sha256, bytesFromPeers: 0, bytesFromBucket: 0 };
}
