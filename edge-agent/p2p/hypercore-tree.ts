import { createRequire } from 'node:module';
import Hypercore from 'hypercore';
import hypercoreCrypto from 'hypercore-crypto';
import { FleetcastError } from '../../errors/index.ts';

// The one place fleetcast relies on Hypercore internals: the signed Merkle tree of a core
// (hypercore/lib/verifier.js, hypercore/lib/caps.js). Blocks travel and are stored by fleetcast
// (block-session.ts, block-file.ts); what proves them is Hypercore's own tree, hashed with
// hypercore-crypto and signed and verified by Hypercore's Verifier, so a core made here and one
// made by Hypercore from the same bytes and key pair are the same core (same key, tree hash and
// signature: hypercore-tree.test.ts). Every member used is checked when the module loads.

/** The hypercore version whose internals this adapter was written against (package.json pins it). */
export const pinnedHypercoreVersion = '11.37.1';

interface TreeBatch {
  length: number;
  fork: number;
  hash(): Buffer;
  signable(context: Buffer): Buffer;
  signableCompat(noHeader?: boolean): Buffer;
}
interface HypercoreVerifier {
  sign(batch: TreeBatch, keyPair: { publicKey: Uint8Array; secretKey: Uint8Array }): Buffer;
  verify(batch: TreeBatch, signature: Uint8Array): boolean;
}
interface VerifierClass {
  new (manifestHash: Buffer, manifest: unknown): HypercoreVerifier;
  defaultSignerManifest(publicKey: Uint8Array): unknown;
  manifestHash(manifest: unknown): Buffer;
}
interface Caps {
  treeSignable(manifestHash: Buffer, treeHash: Buffer, length: number, fork: number): Buffer;
}
interface TreeNode {
  index: number;
  size: number;
  hash: Buffer;
}
interface TreeCrypto {
  data(block: Uint8Array): Buffer;
  parent(a: TreeNode, b: TreeNode): Buffer;
  tree(roots: TreeNode[]): Buffer;
}

const load = createRequire(import.meta.url);
const Verifier = load('hypercore/lib/verifier.js') as VerifierClass;
const caps = load('hypercore/lib/caps.js') as Caps;
const treeCrypto = hypercoreCrypto as unknown as TreeCrypto;
checkInternals();

/** The installed hypercore's version. */
export function installedHypercoreVersion(): string {
  return (load('hypercore/package.json') as { version: string }).version;
}

function checkInternals(): void {
  const missing = [
    ['hypercore/lib/verifier.js', typeof Verifier === 'function' && typeof Verifier.defaultSignerManifest === 'function' && typeof Verifier.manifestHash === 'function' && typeof Verifier.prototype.sign === 'function' && typeof Verifier.prototype.verify === 'function'],
    ['hypercore/lib/caps.js treeSignable', typeof caps?.treeSignable === 'function'],
    ['hypercore-crypto data/parent/tree', typeof treeCrypto.data === 'function' && typeof treeCrypto.parent === 'function' && typeof treeCrypto.tree === 'function'],
    ['Hypercore.key', typeof Hypercore.key === 'function'],
  ].filter(([, ok]) => !ok);
  if (missing.length > 0) {
    throw new FleetcastError('INTERNAL', `the installed hypercore (${installedHypercoreVersion()}) lacks what fleetcast's block verification uses (${missing.map(([name]) => name).join(', ')}); install the version package.json pins (${pinnedHypercoreVersion}) with npm ci`);
  }
}

/** The hash of one block as Hypercore's tree holds it (BLAKE2b of type, length, bytes). */
export function leafHash(block: Uint8Array): Buffer {
  return treeCrypto.data(block);
}

/**
 * The tree hash of a core whose blocks have these leaf hashes (32 bytes each, in order) and byte
 * lengths: the hash of its full roots, as Hypercore computes it.
 */
export function treeHash(leaves: Buffer, lengthOf: (index: number) => number): Buffer {
  const count = leaves.byteLength / 32;
  const roots: TreeNode[] = [];
  let start = 0;
  // The full roots of a flat tree: the largest complete subtrees, left to right.
  for (let span = 2 ** Math.floor(Math.log2(Math.max(count, 1))); start < count; span /= 2) {
    if (start + span <= count) {
      roots.push(subtree(leaves, lengthOf, start, span));
      start += span;
    }
  }
  return treeCrypto.tree(roots);
}

/** The node over leaves [start, start + span) (span a power of two), with its flat-tree index. */
function subtree(leaves: Buffer, lengthOf: (index: number) => number, start: number, span: number): TreeNode {
  if (span === 1) return { index: 2 * start, size: lengthOf(start), hash: leaves.subarray(start * 32, start * 32 + 32) };
  const left = subtree(leaves, lengthOf, start, span / 2);
  const right = subtree(leaves, lengthOf, start + span / 2, span / 2);
  return { index: 2 * start + span - 1, size: left.size + right.size, hash: treeCrypto.parent(left, right) };
}

function batch(hash: Buffer, length: number): TreeBatch {
  return {
    length,
    fork: 0,
    hash: () => hash,
    signable: (context) => caps.treeSignable(context, hash, length, 0),
    signableCompat: () => {
      throw new Error('fleetcast cores use version 1 manifests');
    },
  };
}

function verifierOf(signer: Uint8Array): HypercoreVerifier {
  const manifest = Verifier.defaultSignerManifest(signer);
  return new Verifier(Verifier.manifestHash(manifest), manifest);
}

/** Hypercore's signature of a tree of `length` blocks, by the build's key pair (a seeder's). */
export function signTree(hash: Buffer, length: number, keyPair: { publicKey: Uint8Array; secretKey: Uint8Array }): Buffer {
  return Buffer.from(verifierOf(keyPair.publicKey).sign(batch(hash, length), keyPair));
}

/** Whether `signature` is the build signer's over a tree of `length` blocks with this hash. */
export function verifyTree(hash: Buffer, length: number, signature: Uint8Array, signer: Uint8Array): boolean {
  try {
    return verifierOf(signer).verify(batch(hash, length), signature);
  } catch {
    return false;
  }
}

/** The core key (Hypercore's) of a build whose signer is `signer`. */
export function coreKeyOf(signer: Uint8Array): Buffer {
  return Hypercore.key(signer);
}
