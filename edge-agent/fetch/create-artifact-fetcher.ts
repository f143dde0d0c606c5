import type { Logger } from '../../logging/index.ts';
import type { ArtifactFetcher } from './artifact-fetcher.ts';
import { FallbackFetcher } from './fallback-fetcher.ts';

export interface ArtifactFetcherChoice {
  /** Reads the regional bucket: the fallback, or the only fetcher. */
  bucket: ArtifactFetcher;
  /** Fetches from the region's peers (P2P); null: the bucket alone. */
  peers: ArtifactFetcher | null;
  /** FLEETCAST_AGENT_BUCKET_FALLBACK. */
  fallbackAfterMs: number;
  /** FLEETCAST_AGENT_SEEDER_WAIT. */
  firstPeerWithinMs: number;
  logger?: Logger;
}

/** The one place that decides how an agent gets bytes: peers with the bucket behind them, or the bucket. */
export function createArtifactFetcher(choice: ArtifactFetcherChoice): ArtifactFetcher {
  if (choice.peers === null) return choice.bucket;
  return new FallbackFetcher({ primary: choice.peers, fallback: choice.bucket, fallbackAfterMs: choice.fallbackAfterMs, firstPeerWithinMs: choice.firstPeerWithinMs, logger: choice.logger });
}
