import { createHmac } from 'node:crypto';
import hypercoreCrypto from 'hypercore-crypto';

// The P2P identity of a build that the goal document carries (`p2pKey`): written by the
// coordinator, recomputed by every seeder. Here, below the roles, so the coordinator derives it
// without loading the agent's P2P stack (Hyperswarm, Hypercore).

/**
 * Bytes per Hypercore block of an artifact. Part of the protocol: every seeder must cut an
 * artifact the same way, or two seeders would sign different trees under one key. It is folded
 * into the key derivation, so a different block size gives a different core, never a fork.
 */
export const coreBlockSize = 1024 * 1024;

/** Changing how a core is laid out (block size, encoding) changes this, and with it every key. */
const layout = `fleetcast-core-v1:${coreBlockSize}`;

export interface CoreKeyPair {
  publicKey: Buffer;
  secretKey: Buffer;
}

/**
 * The signing key pair of a build's core: an Ed25519 key pair seeded with
 * HMAC-SHA256(cluster secret, layout + artifact digest). Deterministic, so independent seeders
 * in every region produce the same signed core; secret, so nobody without the cluster secret
 * can sign blocks an agent would accept.
 */
export function coreKeyPair(clusterSecret: string, digest: string): CoreKeyPair {
  const seed = createHmac('sha256', clusterSecret).update(`${layout}:${digest}`).digest();
  const { publicKey, secretKey } = hypercoreCrypto.keyPair(seed);
  return { publicKey: Buffer.from(publicKey), secretKey: Buffer.from(secretKey) };
}

/** The public key of a build's core as the goal state carries it (`p2pKey`, 64 hex digits). */
export function coreKey(clusterSecret: string, digest: string): string {
  return coreKeyPair(clusterSecret, digest).publicKey.toString('hex');
}
