// The edge agent (on every fleet machine) and the regional seeder: P2P distribution with
// Hyperswarm and Hypercore inside a region, verified install, run and instant rollback.
export { regionTopic } from './p2p/region-topic.ts';
export { RateLimiter } from './limits/rate-limiter.ts';
export type { ArtifactFetcher, FetchRequest, FetchResult, FetchProgress, FetchSource, RetainedBuild } from './fetch/artifact-fetcher.ts';
export { BucketFetcher, type BucketFetcherOptions } from './fetch/bucket-fetcher.ts';
export { FallbackFetcher, type FallbackFetcherOptions } from './fetch/fallback-fetcher.ts';
export { createArtifactFetcher, type ArtifactFetcherChoice } from './fetch/create-artifact-fetcher.ts';
export { runAgent, loadAgentConfig, agentSettings, agentDir, Agent, AgentLayout, type AgentHandle, type AgentOverrides, type AgentConfig, type ServiceState } from './agent/index.ts';
export { P2PFetcher, type P2PFetcherOptions, type P2PFetcherStatus } from './p2p/p2p-fetcher.ts';
export { createP2PFetcher, p2pFetcherSettings, type P2PFetcherConfig, type P2PFetcherExtras } from './p2p/p2p-config.ts';
export { RegionSwarm, type RegionSwarmOptions, type RejectedPeer, type ServeOptions } from './p2p/region-swarm.ts';
export { ArtifactCore, type CoreBuild } from './p2p/artifact-core.ts';
export { CoreStore } from './p2p/core-store.ts';
export { fillCoreFromBlob } from './p2p/core-from-blob.ts';
export { DhtBootstrap, type DhtBootstrapOptions } from './p2p/dht-bootstrap.ts';
export { runSeeder, type SeederHandle, type SeederOverrides } from './seeder/run.ts';
export { loadSeederConfig, seederSettings, type SeederConfig } from './seeder/config.ts';
export type { RegionalSeeder, SeederStatus, SeededBuild, SeedReason } from './seeder/regional-seeder.ts';
export { runDht, type DhtHandle } from './dht/run.ts';
export { loadDhtConfig, dhtSettings, type DhtConfig } from './dht/config.ts';
export { fleetIdentity, loadFleetIdentity, type FleetIdentity } from './p2p/fleet-identity.ts';
export { BlockTree } from './p2p/block-tree.ts';
