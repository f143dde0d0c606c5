import fsp from 'node:fs/promises';
import { formatBytes, humanDuration } from '../../config/index.ts';
import { FleetcastError, isFleetcastError } from '../../errors/index.ts';
import { silentLogger, type Logger } from '../../logging/index.ts';
import type { ArtifactFetcher, FetchProgress, FetchRequest, FetchResult, RetainedBuild } from './artifact-fetcher.ts';

export interface FallbackFetcherOptions {
  /** The fetcher tried first: the region's peers. */
  primary: ArtifactFetcher;
  /** The one that always has the build: the regional bucket. */
  fallback: ArtifactFetcher;
  /**
   * Without a new byte from the primary for this long (from the start, or later: peers that
   * stop serving), it is aborted and the fallback resumes the file (FLEETCAST_AGENT_BUCKET_FALLBACK).
   * @defaultValue 30_000
   */
  fallbackAfterMs?: number;
  /**
   * How long the primary may take to say anything at all — for P2P, to meet a peer holding the
   * build's signed core (FLEETCAST_AGENT_SEEDER_WAIT). The region's seeders make that core from
   * the regional bucket after the build lands there, about a minute per 10 GiB; falling back
   * sooner sends the whole region to the bucket at once. Never shorter than fallbackAfterMs.
   * @defaultValue fallbackAfterMs
   */
  firstPeerWithinMs?: number;
  /** @defaultValue a silent logger */
  logger?: Logger;
}

/**
 * Peers first, the bucket when peers do not deliver. The switch is visible: every progress
 * report after it carries a note saying why the bucket is being read, which the agent puts
 * into its status. The fallback resumes what the primary wrote (a prefix, by the fetcher
 * contract), so bytes that came from peers are not read again.
 */
export class FallbackFetcher implements ArtifactFetcher {
  private readonly fallbackAfterMs: number;
  private readonly firstPeerWithinMs: number;
  private readonly logger: Logger;

  constructor(private readonly options: FallbackFetcherOptions) {
    this.fallbackAfterMs = options.fallbackAfterMs ?? 30_000;
    this.firstPeerWithinMs = Math.max(this.fallbackAfterMs, options.firstPeerWithinMs ?? this.fallbackAfterMs);
    this.logger = options.logger ?? silentLogger();
  }

  async fetch(request: FetchRequest): Promise<FetchResult> {
    const { goal, destination, signal } = request;
    signal.throwIfAborted();
    if (goal.p2pKey === null) return this.fromFallback(request, 'the goal has no P2P key', 0);
    const startBytes = await fileSize(destination);
    let highest = startBytes;
    let why: string | undefined;
    let heard = false;
    const primarySignal = new AbortController();
    const forward = () => primarySignal.abort(signal.reason);
    // The caller may have aborted while the file was looked at.
    signal.throwIfAborted();
    signal.addEventListener('abort', forward, { once: true });
    let timer: NodeJS.Timeout | undefined;
    const arm = (ms: number) => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        why =
          highest > startBytes
            ? `peers stopped serving data for ${humanDuration(ms)} (at ${formatBytes(highest)} of ${formatBytes(goal.size)})`
            : `no peer served data within ${humanDuration(ms)}`;
        primarySignal.abort(new FleetcastError('CANCELLED', `P2P fetch of ${goal.build} given up: ${why}`));
      }, ms);
    };
    arm(this.firstPeerWithinMs);
    try {
      return await this.options.primary.fetch({
        ...request,
        signal: primarySignal.signal,
        leavePrefix: true,
        onProgress: (progress) => {
          // The first report says the primary found the build (P2P: a peer proved its length);
          // from then on, stalls count.
          if (progress.bytes > highest || !heard) {
            heard = true;
            highest = Math.max(highest, progress.bytes);
            arm(this.fallbackAfterMs);
          }
          request.onProgress?.(progress);
        },
      });
    } catch (err) {
      if (signal.aborted) throw signal.reason;
      if (why === undefined) {
        // The primary failed by itself. A full disk fails the bucket read just the same.
        if (isFleetcastError(err, 'DISK_FULL')) throw err;
        why = `the P2P fetch failed: ${(err as Error)?.message ?? String(err)}`;
        // Whole-file bytes that do not hash right cannot be resumed from.
        if (isFleetcastError(err, 'DIGEST_MISMATCH')) await fsp.truncate(destination, 0).catch(() => undefined);
      }
    } finally {
      clearTimeout(timer);
      signal.removeEventListener('abort', forward);
    }
    return this.fromFallback(request, why, Math.max(0, highest - startBytes));
  }

  async retain(builds: RetainedBuild[]): Promise<void> {
    await Promise.all([this.options.primary.retain(builds), this.options.fallback.retain(builds)]);
  }

  async close(): Promise<void> {
    await Promise.all([this.options.primary.close(), this.options.fallback.close()]);
  }

  private async fromFallback(request: FetchRequest, why: string, bytesFromPeers: number): Promise<FetchResult> {
    const { goal } = request;
    const note = `fetching from the bucket: ${why}`;
    this.logger.warn({ service: goal.service, build: goal.build, region: goal.region, bytesFromPeers }, note);
    // Said at once, not with the first chunk: a slow bucket read should already show why it happens.
    request.onProgress?.({ bytes: await fileSize(request.destination), total: goal.size, peers: 0, source: 'bucket', note });
    const result = await this.options.fallback.fetch({
      ...request,
      onProgress: (progress: FetchProgress) => request.onProgress?.({ ...progress, note }),
    });
    return { ...result, bytesFromPeers: result.bytesFromPeers + bytesFromPeers };
  }
}

async function fileSize(file: string): Promise<number> {
  return (await fsp.stat(file).catch(() => undefined))?.size ?? 0;
}
