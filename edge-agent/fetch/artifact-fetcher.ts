import type { GoalContent } from '../../goalstate/index.ts';

/** Where a fetch's bytes came from so far. */
export type FetchSource = 'peers' | 'bucket';

export interface FetchProgress {
  /** Bytes of the artifact the machine holds so far (resumed bytes included). */
  bytes: number;
  total: number;
  /** Peers currently exchanging blocks of this build with the machine. */
  peers: number;
  source: FetchSource;
  /**
   * A remark the agent shows in its status while the fetch goes on, e.g. why it reads from the
   * bucket ("fetching from the bucket: no peer served data within 30 s").
   */
  note?: string;
}

export interface FetchRequest {
  /** What to fetch: build, digest, size, object name in the regional bucket, P2P key. */
  goal: GoalContent;
  /**
   * The file to write the artifact to. It may already hold a prefix from an interrupted fetch
   * (resumed, not re-fetched); when fetch() resolves it holds exactly the artifact. With
   * `leavePrefix`, a fetcher leaves only a prefix there when it fails or is aborted (never holes),
   * and stops writing before its promise settles: another fetcher may resume the file right after.
   */
  destination: string;
  signal: AbortSignal;
  onProgress?: (progress: FetchProgress) => void;
  /**
   * Another fetcher resumes the file if this one stops (the fallback): leave only a verified
   * prefix then. Without it a P2P fetcher may leave blocks at their offsets with gaps between
   * (its own records say which it holds, and its next fetch resumes them all).
   */
  leavePrefix?: boolean;
}

export interface FetchResult {
  /** sha256 (hex) of the whole file as written; the agent compares it with the goal's digest. */
  sha256: string;
  bytesFromPeers: number;
  bytesFromBucket: number;
}

/**
 * How an agent gets a build's bytes onto its disk: from the region's peers (P2P), from the
 * regional bucket (fallback), or both in turn. Implementations stream with bounded memory
 * whatever the size, verify what they receive, and fail with a FleetcastError whose code and
 * message say what went wrong (DIGEST_MISMATCH, DISK_FULL, STORAGE_UNAVAILABLE, …).
 */
export interface ArtifactFetcher {
  fetch(request: FetchRequest): Promise<FetchResult>;
  /**
   * The builds this machine keeps (its goals and cached builds, each with its installed file):
   * a P2P fetcher keeps serving them to peers and may drop every other build's data.
   */
  retain(builds: RetainedBuild[]): Promise<void>;
  close(): Promise<void>;
}

export interface RetainedBuild {
  goal: GoalContent;
  /** The verified, installed artifact. */
  file: string;
}
