import path from 'node:path';
import type { BlobStore } from '../../blobstore/index.ts';
import { FleetcastError, isFleetcastError } from '../../errors/index.ts';
import { liveHint, type GoalContent, type GoalUpdate, type GoalWatch, type RegionGoalView } from '../../goalstate/index.ts';
import { backoffDelay } from '../../lifecycle/index.ts';
import { silentLogger, type Logger } from '../../logging/index.ts';
import type { CoreBuild } from '../p2p/artifact-core.ts';
import { coreKey, coreKeyPair } from '../../goalstate/index.ts';
import { fillCoreFromBlob } from '../p2p/core-from-blob.ts';
import type { CoreStore } from '../p2p/core-store.ts';
import type { RegionSwarm } from '../p2p/region-swarm.ts';
import { newestArtifacts, type BucketArtifact } from './preheat-scan.ts';

export interface RegionalSeederOptions {
  region: string;
  /** The cluster secret: the seeder signs cores with the key pair derived from it. */
  clusterSecret: string;
  /** The region's bucket (`<prefix>-<region>`). */
  store: BlobStore;
  goals: RegionGoalView;
  cores: CoreStore;
  swarm: RegionSwarm;
  /** Newest builds per service to preheat (FLEETCAST_SEEDER_PREHEAT). */
  preheatPerService: number;
  /** How often the bucket is listed for builds to preheat (FLEETCAST_SEEDER_SCAN_EVERY). */
  scanEveryMs: number;
  /** First pause before a build that failed is tried again; it doubles up to 10 min. @defaultValue 5_000 */
  retryMs?: number;
  /** @defaultValue a silent logger */
  logger?: Logger;
}

/**
 * Why a build is seeded: it is a goal, a later wave's build that agents prefetch, it was the
 * goal before (rollback), or it is among the newest in the bucket.
 */
export type SeedReason = 'goal' | 'prefetch' | 'previous-goal' | 'preheat';

export interface SeededBuild {
  service: string;
  build: string;
  p2pKey: string;
  reason: SeedReason;
  /** Bytes of its blocks uploaded to peers since this seeder served it. */
  uploadedBytes: number;
  /** Peers that were sent blocks of it since this seeder served it. */
  peers: number;
}

export interface SeederStatus {
  seeding: SeededBuild[];
  /** Wanted, not served yet: being read from the bucket, or waiting. */
  pending: { service: string; build: string; reason: SeedReason }[];
  /** Builds whose last attempt failed, with why; tried again after a pause. */
  failed: { service: string; build: string; code: string; message: string; attempts: number; retryAt: Date }[];
  /** Bytes read from the regional bucket to make cores, since start. */
  bucketBytesRead: number;
  /**
   * Documents of the region's goal mirror this seeder refused since start (not signed by a
   * trusted key, changed, replayed, malformed): nothing is seeded for them. By code.
   */
  refused: Record<string, number>;
}

interface Wanted {
  build: CoreBuild;
  artifact: string;
  reason: SeedReason;
}

interface Failure {
  build: CoreBuild;
  error: FleetcastError;
  attempts: number;
  retryAt: number;
}

const maxRetryMs = 10 * 60_000;

/** How often a seeder that sent bytes says so in its log. */
const egressReportMs = 10_000;

/**
 * The regional seeder: level-triggered on the region's goals and on the bucket's newest builds.
 * Each pass computes the builds it wants (goals first, then builds agents prefetch for a later
 * wave, then each service's previous goal, then the newest builds in the bucket), makes a signed
 * core of each from the regional bucket (one at a time: reading the bucket is the expensive
 * part), serves it on the region's topic, and drops every core it no longer wants. A restarted
 * seeder finds its verified cores and serves them without reading the bucket again. Several
 * seeders of a region build identical cores and share the agents between them.
 */
export class RegionalSeeder {
  private readonly logger: Logger;
  private readonly goals = new Map<string, GoalContent>();
  private readonly previousGoals = new Map<string, GoalContent>();
  private readonly goalSeqs = new Map<string, number>();
  private readonly refused: Record<string, number> = {};
  private readonly hints = new Map<string, GoalUpdate>();
  private preheat: BucketArtifact[] = [];
  private readonly failures = new Map<string, Failure>();
  private wanted: Wanted[] = [];
  private watch: GoalWatch | undefined;
  private scanTimer: NodeJS.Timeout | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private dirty = false;
  private loop: Promise<void> | undefined;
  private readonly stopping = new AbortController();
  private bucketBytesRead = 0;
  private reportedBytes = 0;
  private egressTimer: NodeJS.Timeout | undefined;
  private firstPass: Promise<void>;
  private markFirstPass!: () => void;

  constructor(private readonly options: RegionalSeederOptions) {
    this.logger = (options.logger ?? silentLogger()).child({ region: options.region });
    this.firstPass = new Promise((resolve) => (this.markFirstPass = resolve));
  }

  /** Starts watching goals and scanning the bucket; resolves once the current goals were seen. */
  async start(): Promise<void> {
    this.watch = this.options.goals.watch(undefined, (update) => this.onGoal(update), {
      onPrefetch: (update) => this.onPrefetch(update),
      // The coordinator did not sign it (or signed it long ago): nothing of it is seeded, the last accepted goal stays.
      onError: (error) => {
        this.refused[error.code] = (this.refused[error.code] ?? 0) + 1;
        this.logger.warn({ err: error, code: error.code, service: error.details.service }, `not seeding what the region's goal mirror holds for ${String(error.details.service)}: ${error.message}`);
      },
    });
    await this.watch.ready;
    await this.scan();
    this.scanTimer = setInterval(() => void this.scan(), this.options.scanEveryMs);
    this.scanTimer.unref();
    this.egressTimer = setInterval(() => this.reportEgress(), egressReportMs);
    this.egressTimer.unref();
  }

  /** Resolves once a pass ran after start (the goals known then are being served or failed). */
  get settled(): Promise<void> {
    return this.firstPass;
  }

  status(): SeederStatus {
    const seeding: SeededBuild[] = [];
    const pending: SeederStatus['pending'] = [];
    for (const wanted of this.wanted) {
      const served = this.servedCore(wanted.build.p2pKey);
      if (served !== undefined) seeding.push({ service: wanted.build.service, build: wanted.build.build, p2pKey: wanted.build.p2pKey, reason: wanted.reason, uploadedBytes: served, peers: this.peersOf(wanted.build.p2pKey) });
      else if (!this.failures.has(wanted.build.p2pKey)) pending.push({ service: wanted.build.service, build: wanted.build.build, reason: wanted.reason });
    }
    const failed = [...this.failures.values()].map((f) => ({
      service: f.build.service,
      build: f.build.build,
      code: f.error.code,
      message: f.error.message,
      attempts: f.attempts,
      retryAt: new Date(f.retryAt),
    }));
    return { seeding, pending, failed, bucketBytesRead: this.bucketBytesRead, refused: { ...this.refused } };
  }

  async stop(): Promise<void> {
    this.stopping.abort(new Error('the seeder is stopping'));
    clearInterval(this.scanTimer);
    clearInterval(this.egressTimer);
    this.reportEgress();
    clearTimeout(this.retryTimer);
    await this.watch?.stop();
    await this.loop;
  }

  // ---- inputs

  private onGoal(update: GoalUpdate): void {
    const before = this.goals.get(update.service);
    if (update.goal === null) {
      // The service left the region: nothing of it is worth seeding here any more (but preheats).
      this.goals.delete(update.service);
      this.previousGoals.delete(update.service);
    } else {
      if (before && before.digest !== update.goal.digest) this.previousGoals.set(update.service, before);
      this.goals.set(update.service, update.goal);
    }
    if (update.goal) this.goalSeqs.set(update.service, update.goal.seq);
    this.schedule();
  }

  /** A later wave's build, which the region's agents fetch ahead of their goal. */
  private onPrefetch(update: GoalUpdate): void {
    this.hints.set(update.service, update);
    this.schedule();
  }

  /** The hints agents follow (goalstate's liveHint). */
  private liveHints(): Map<string, GoalContent> {
    const live = new Map<string, GoalContent>();
    for (const [service, hint] of this.hints) {
      const goal = liveHint(hint, this.goalSeqs.get(service));
      if (goal) live.set(service, goal);
    }
    return live;
  }

  private async scan(): Promise<void> {
    try {
      this.preheat = await newestArtifacts(this.options.store, this.options.preheatPerService);
    } catch (err) {
      // Keep the last listing: goals are served either way.
      this.logger.warn({ err, bucket: this.options.store.bucket }, `listing bucket ${this.options.store.bucket} for builds to preheat failed; trying again in ${this.options.scanEveryMs} ms`);
    }
    this.schedule();
  }

  // ---- the reconcile loop

  private schedule(): void {
    this.dirty = true;
    if (this.loop || this.stopping.signal.aborted) return;
    this.loop = this.run().finally(() => {
      this.loop = undefined;
      if (this.dirty && !this.stopping.signal.aborted) this.schedule();
    });
  }

  private async run(): Promise<void> {
    while (this.dirty && !this.stopping.signal.aborted) {
      this.dirty = false;
      try {
        await this.pass();
      } catch (err) {
        this.logger.error({ err }, `seeder pass failed: ${(err as Error).message}`);
      }
      this.markFirstPass();
    }
  }

  private async pass(): Promise<void> {
    const refused = new Set<string>();
    this.wanted = this.computeWanted(refused);
    const wantedKeys = new Set(this.wanted.map((w) => w.build.p2pKey));
    for (const key of [...this.failures.keys()]) if (!wantedKeys.has(key) && !refused.has(key)) this.failures.delete(key);
    // Drop first: the disk a dropped core frees may be what the next one needs.
    for (const key of await this.options.cores.stored()) {
      if (wantedKeys.has(key)) continue;
      await this.unserve(key);
      await this.options.cores.drop(key);
      this.logger.info({ p2pKey: key }, 'dropped a core no longer wanted (not a goal, previous goal or among the newest builds)');
    }
    for (const wanted of this.wanted) {
      if (this.stopping.signal.aborted) return;
      // A goal that arrived meanwhile goes before the preheats still queued behind it.
      if (this.dirty && wanted.reason === 'preheat') return;
      if (this.servedCore(wanted.build.p2pKey) !== undefined) continue;
      const failure = this.failures.get(wanted.build.p2pKey);
      if (failure && failure.retryAt > Date.now()) continue;
      await this.prepare(wanted, failure);
    }
    this.armRetry();
  }

  /** The builds to seed, in order; goals this seeder cannot sign land in `refused`. */
  private computeWanted(refused: Set<string>): Wanted[] {
    const wanted = new Map<string, Wanted>();
    const add = (build: CoreBuild, artifact: string, reason: SeedReason) => {
      if (!wanted.has(build.p2pKey)) wanted.set(build.p2pKey, { build, artifact, reason });
    };
    for (const [goals, reason] of [
      [this.goals, 'goal'],
      [this.liveHints(), 'prefetch'],
      [this.previousGoals, 'previous-goal'],
    ] as const) {
      for (const goal of goals.values()) {
        const build = this.goalBuild(goal);
        if (build) add(build, goal.artifact, reason);
        else if (goal.p2pKey !== null) refused.add(goal.p2pKey);
      }
    }
    for (const artifact of this.preheat) {
      add({ service: artifact.service, build: artifact.build, digest: artifact.digest, size: artifact.size, p2pKey: coreKey(this.options.clusterSecret, artifact.digest) }, artifact.artifact, 'preheat');
    }
    return [...wanted.values()];
  }

  /** The goal as a core to make; null when agents fetch it from the bucket (no key) or the key is not ours. */
  private goalBuild(goal: GoalContent): CoreBuild | null {
    if (goal.p2pKey === null) return null;
    const build = { service: goal.service, build: goal.build, digest: goal.digest, size: goal.size, p2pKey: goal.p2pKey };
    if (goal.p2pKey !== coreKey(this.options.clusterSecret, goal.digest)) {
      const error = new FleetcastError(
        'CONFIG_INVALID',
        `the goal of ${goal.service} in region ${this.options.region} (build ${goal.build}) has P2P key ${goal.p2pKey}, but this seeder's cluster secret gives ${coreKey(this.options.clusterSecret, goal.digest)}: give every seeder the coordinator's FLEETCAST_SECRET`,
        { build: goal.build, service: goal.service },
      );
      if (!this.failures.has(goal.p2pKey)) this.logger.error({ build: goal.build, service: goal.service }, error.message);
      this.failures.set(goal.p2pKey, { build, error, attempts: 1, retryAt: Number.POSITIVE_INFINITY });
      return null;
    }
    return build;
  }

  /** Serves the build's core, making it from the bucket first unless a verified one is stored. */
  private async prepare(wanted: Wanted, failure: Failure | undefined): Promise<void> {
    const { build } = wanted;
    const logger = this.logger.child({ build: build.build, service: build.service });
    const keyPair = coreKeyPair(this.options.clusterSecret, build.digest);
    try {
      let core = await this.options.cores.open(build, keyPair);
      if (await core.isVerified()) {
        await core.useFile(path.join(core.dir, 'data'), 'read');
      } else {
        // Never made, or interrupted while being made (its blocks were never announced): start over.
        await this.options.cores.drop(build.p2pKey);
        core = await this.options.cores.open(build, keyPair);
        logger.info({ object: wanted.artifact, size: build.size, reason: wanted.reason }, `making the core of build ${build.build} from bucket ${this.options.store.bucket}`);
        const started = performance.now();
        const { bytes } = await fillCoreFromBlob(core, this.options.store, wanted.artifact, this.stopping.signal);
        this.bucketBytesRead += bytes;
        logger.info({ bytes, ms: Math.round(performance.now() - started) }, `core of build ${build.build} made`);
      }
      this.failures.delete(build.p2pKey);
      await this.options.swarm.serve(core);
      logger.info({ p2pKey: build.p2pKey, reason: wanted.reason }, `seeding build ${build.build} (${build.service}) in region ${this.options.region}`);
    } catch (err) {
      if (this.stopping.signal.aborted) return;
      await this.options.cores.drop(build.p2pKey).catch(() => undefined);
      const error = isFleetcastError(err) ? err : new FleetcastError('INTERNAL', `making the core of build ${build.build} failed: ${(err as Error).message}`, {}, { cause: err });
      const attempts = (failure?.attempts ?? 0) + 1;
      const pause = backoffDelay(attempts, { initialMs: this.options.retryMs ?? 5_000, maxMs: maxRetryMs });
      this.failures.set(build.p2pKey, { build, error, attempts, retryAt: Date.now() + pause });
      logger.error({ err: error, code: error.code, attempts, retryInMs: pause }, `cannot seed build ${build.build} (${build.service}): ${error.message}`);
    }
  }

  private armRetry(): void {
    clearTimeout(this.retryTimer);
    const next = Math.min(...[...this.failures.values()].map((f) => f.retryAt));
    if (!Number.isFinite(next)) return;
    this.retryTimer = setTimeout(() => this.schedule(), Math.max(0, next - Date.now()) + 10);
    this.retryTimer.unref();
  }

  private servedCore(p2pKey: string): number | undefined {
    const core = this.options.cores.get(p2pKey);
    return core && this.options.swarm.isServing(core) ? this.options.swarm.uploadedBytes(core) : undefined;
  }

  private peersOf(p2pKey: string): number {
    const core = this.options.cores.get(p2pKey);
    return core ? this.options.swarm.peersServed(core) : 0;
  }

  /**
   * Says what the seeder serves and sends: per build, the peers it sent blocks to and the bytes,
   * and the egress since the last line — so a region's seeder egress reads from its log.
   */
  private reportEgress(): void {
    const { seeding } = this.status();
    const total = seeding.reduce((sum, s) => sum + s.uploadedBytes, 0);
    const sent = total - this.reportedBytes;
    this.reportedBytes = total;
    if (sent <= 0) return;
    this.logger.info(
      { egressBytes: sent, uploadedBytes: total, connections: this.options.swarm.connections, builds: seeding.map((s) => ({ service: s.service, build: s.build, reason: s.reason, peers: s.peers, uploadedBytes: s.uploadedBytes })) },
      `seeding ${seeding.length} builds to ${this.options.swarm.connections} peers: sent ${sent} bytes in the last ${egressReportMs / 1000} s (${seeding.filter((s) => s.uploadedBytes > 0).map((s) => `${s.service} ${s.build}: ${s.uploadedBytes} bytes to ${s.peers} peers`).join(', ')})`,
    );
  }

  private async unserve(p2pKey: string): Promise<void> {
    const core = this.options.cores.get(p2pKey);
    if (core) await this.options.swarm.unserve(core);
  }
}
