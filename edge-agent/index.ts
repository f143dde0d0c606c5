// The edge agent (on every fleet machine) and the regional seeder: P2P distribution with
// Hyperswarm and Hypercore inside a region, verified install, run and instant rollback.
export { coreBlockSize, coreKey, coreKeyPair, regionTopic, type CoreKeyPair } from './p2p/core-key.ts';
export { RateLimiter } from './limits/rate-limiter.ts';
export type { ArtifactFetcher, FetchRequest, FetchResult, FetchProgress, FetchSource, RetainedBuild } from './fetch/artifact-fetcher.ts';
export { BucketFetcher, type BucketFetcherOptions } from './fetch/bucket-fetcher.ts';
export { FallbackFetcher, type FallbackFetcherOptions } from './fetch/fallback-fetcher.ts';
export { createArtifactFetcher, type ArtifactFetcherChoice } from './fetch/create-artifact-fetcher.ts';
export { runAgent, loadAgentConfig, agentSettings, agentDir, Agent, AgentLayout, type AgentHandle, type AgentOverrides, type AgentConfig, type ServiceState } from './agent/index.ts';
