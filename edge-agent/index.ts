// The edge agent (on every fleet machine) and the regional seeder: P2P distribution with
// Hyperswarm and Hypercore inside a region, verified install, run and instant rollback.
export { coreBlockSize, coreKey, coreKeyPair, regionTopic, type CoreKeyPair } from './p2p/core-key.ts';
