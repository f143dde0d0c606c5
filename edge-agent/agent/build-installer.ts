import fsp from 'node:fs/promises';
import { digestMismatch } from '../../blobstore/index.ts';
import { formatBytes } from '../../config/index.ts';
import { FleetcastError, isFleetcastError } from '../../errors/index.ts';
import type { GoalContent, StatusUpdate } from '../../goalstate/index.ts';
import type { Logger } from '../../logging/index.ts';
import type { ArtifactFetcher } from '../fetch/artifact-fetcher.ts';
import type { AgentLayout } from './agent-layout.ts';
import type { BuildCache, InstalledBuild } from './build-cache.ts';

export interface BuildInstallerDeps {
  service: string;
  layout: AgentLayout;
  cache: BuildCache;
  fetcher: ArtifactFetcher;
  /**
   * The builds cache upkeep must keep: the running one, the goal's and (unless `aggressive`) a
   * followed prefetch hint's. Asked at each upkeep, since they change while a fetch runs.
   */
  protectedBuilds: (options: { aggressive: boolean }) => Set<string>;
  /** The verified builds changed (install, upkeep): the fetcher's retained set is recomputed. */
  onCacheChanged: () => void;
  logger: Logger;
}

export interface BuildInstallerOptions {
  /** FLEETCAST_AGENT_CACHE_BUILDS. */
  cacheBuilds: number;
  /** FLEETCAST_AGENT_MIN_FREE_DISK. */
  minFreeBytes: number;
}

export interface DownloadOptions {
  /** Where progress goes (the service's status, or nowhere for a prefetch not yet due). */
  report: (update: StatusUpdate) => void;
  /** A download that does not fit may remove every unprotected cached build (a goal's may, a prefetch's may not). */
  mayEmptyCache: boolean;
}

/**
 * Fetching and installing one service's builds: room on the disk, the fetch into
 * `builds/<build>/.partial`, the check of its size and sha256 against the goal, the rename into
 * place with its mark (BuildCache), and cache upkeep.
 */
export class BuildInstaller {
  constructor(
    private readonly deps: BuildInstallerDeps,
    private readonly options: BuildInstallerOptions,
  ) {}

  /** Fetches, verifies and installs `goal`'s build into the cache. */
  async download(goal: GoalContent, signal: AbortSignal, log: Logger, options: DownloadOptions): Promise<InstalledBuild> {
    const { layout, cache, fetcher, service } = this.deps;
    const { report } = options;
    await fsp.mkdir(layout.buildDir(service, goal.build), { recursive: true });
    const partial = layout.partial(service, goal.build);
    const have = (await fsp.stat(partial).catch(() => undefined))?.size ?? 0;
    await this.ensureSpace(goal, goal.size - Math.min(have, goal.size), options.mayEmptyCache);
    report({ build: goal.build, state: 'downloading', bytes: have, total: goal.size });
    let result;
    try {
      result = await fetcher.fetch({
        goal,
        destination: partial,
        signal,
        onProgress: (p) => report({ build: goal.build, state: 'downloading', bytes: p.bytes, total: p.total, peers: p.peers, error: p.note ?? null }),
      });
    } catch (err) {
      // Aborted: the bytes stay for the next try. Wrong bytes or a full disk: they go (a full
      // disk hurts the running service too).
      if (!signal.aborted && (isFleetcastError(err, 'DIGEST_MISMATCH') || isFleetcastError(err, 'DISK_FULL'))) await fsp.rm(partial, { force: true });
      throw err;
    }
    report({ build: goal.build, state: 'verifying', bytes: goal.size, total: goal.size });
    const size = (await fsp.stat(partial)).size;
    if (result.sha256 !== goal.digest || size !== goal.size) {
      await fsp.rm(partial, { force: true });
      throw digestMismatch(`download of ${goal.build} of ${service}`, { sha256: goal.digest, size: goal.size }, { sha256: result.sha256, size }, 'the bytes fetched are not the build; they were discarded, the running build is untouched, and the agent fetches again');
    }
    const installed = await cache.install(goal, partial, { fromPeers: result.bytesFromPeers, fromBucket: result.bytesFromBucket });
    log.info({ bytesFromPeers: result.bytesFromPeers, bytesFromBucket: result.bytesFromBucket, size: goal.size }, `installed ${goal.build} (verified sha256)`);
    this.deps.onCacheChanged();
    return installed;
  }

  /**
   * Cache upkeep: keeps the protected builds and `extra`, then the most recent up to
   * FLEETCAST_AGENT_CACHE_BUILDS; below the free-disk watermark it removes more. `aggressive`
   * (a goal's download that does not fit) removes every cached build that is not the running
   * one, the goal's or `extra`.
   */
  async collect(extra: string | null, options: { aggressive?: boolean } = {}): Promise<void> {
    const aggressive = options.aggressive ?? false;
    const protect = this.deps.protectedBuilds({ aggressive });
    if (extra) protect.add(extra);
    try {
      const removed = await this.deps.cache.collect(this.deps.service, {
        protect,
        keep: aggressive ? 0 : this.options.cacheBuilds,
        minFreeBytes: this.options.minFreeBytes,
      });
      if (removed.length > 0) this.deps.onCacheChanged();
    } catch (err) {
      this.deps.logger.warn({ err }, `could not remove cached builds of ${this.deps.service}`);
    }
  }

  /**
   * Frees cached builds if the download would not fit (every unprotected one if `mayEmptyCache`);
   * fails with DISK_FULL before writing a byte if it still does not.
   */
  private async ensureSpace(goal: GoalContent, needed: number, mayEmptyCache: boolean): Promise<void> {
    const { cache, layout, service } = this.deps;
    if ((await cache.freeBytes()) >= needed + this.options.minFreeBytes) return;
    await this.collect(goal.build);
    if ((await cache.freeBytes()) >= needed) return;
    if (mayEmptyCache) await this.collect(goal.build, { aggressive: true });
    const free = await cache.freeBytes();
    if (free >= needed) return;
    throw new FleetcastError(
      'DISK_FULL',
      `not enough disk for ${goal.build} of ${service}: ${formatBytes(needed)} still to fetch, ${formatBytes(free)} free in ${layout.root} after removing cached builds; free space there (or lower FLEETCAST_AGENT_CACHE_BUILDS). The running build is untouched; the agent tries again`,
      { build: goal.build, needed, free, dir: layout.root },
    );
  }
}
