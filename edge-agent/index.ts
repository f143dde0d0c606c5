// The edge agent (on every fleet machine) and the regional seeder: P2P distribution with
// Hyperswarm and Hypercore inside a region, verified install, run and instant rollback.
export { coreBlockSize, coreKey, coreKeyPair, regionTopic, type CoreKeyPair } from './p2p/core-key.ts';
export { RateLimiter } from './limits/rate-limiter.ts';
export type { ArtifactFetcher, FetchRequest, FetchResult, FetchProgress, FetchSource, RetainedBuild } from './fetch/artifact-fetcher.ts';
