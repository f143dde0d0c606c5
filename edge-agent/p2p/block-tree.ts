import { blockCount, blockLength } from '../../goalstate/index.ts';
import { leafHash, signTree, treeHash, verifyTree } from './hypercore-tree.ts';

/**
 * The signed tree of a build's core: the hash of every block (Hypercore's leaves) and the build
 * signer's signature over their roots. A machine gets it once from a peer and checks it against
 * the goal's p2pKey (verified()); from then on each block is checked against its leaf before it is
 * written, used or served — one BLAKE2b per block, no per-block proof on the wire. 32 bytes per
 * MiB block: 320 KiB for a 10 GiB build.
 */
export class BlockTree {
  private constructor(
    readonly size: number,
    /** 32 bytes per block, in order. */
    readonly leaves: Buffer,
    readonly signature: Buffer,
  ) {}

  get blocks(): number {
    return this.leaves.byteLength / 32;
  }

  /** Signs the tree of blocks whose leaf hashes are `leaves` (a seeder making a core). */
  static sign(size: number, leaves: Buffer, keyPair: { publicKey: Uint8Array; secretKey: Uint8Array }): BlockTree {
    const hash = treeHash(leaves, (index) => blockLength(index, size));
    return new BlockTree(size, leaves, signTree(hash, blockCount(size), keyPair));
  }

  /** The tree a peer sent, if its signature is the build signer's and it has the build's size; else null. */
  static verified(encoded: Buffer, size: number, signer: Uint8Array): BlockTree | null {
    const tree = BlockTree.decode(encoded);
    if (!tree || tree.size !== size || tree.blocks !== blockCount(size)) return null;
    // The root sizes in the tree hash carry every block's length, so the size is signed too.
    const hash = treeHash(tree.leaves, (index) => blockLength(index, size));
    return verifyTree(hash, tree.blocks, tree.signature, signer) ? tree : null;
  }

  /** Whether `data` is block `index` of this build. */
  holds(index: number, data: Uint8Array): boolean {
    if (index < 0 || index >= this.blocks || data.byteLength !== blockLength(index, this.size)) return false;
    return leafHash(data).equals(this.leaves.subarray(index * 32, index * 32 + 32));
  }

  /** `size` (8 bytes) · signature length (2) · signature · leaves. */
  encode(): Buffer {
    const head = Buffer.alloc(10);
    head.writeBigUInt64BE(BigInt(this.size), 0);
    head.writeUInt16BE(this.signature.byteLength, 8);
    return Buffer.concat([head, this.signature, this.leaves]);
  }

  static decode(encoded: Buffer): BlockTree | null {
    if (encoded.byteLength < 10) return null;
    const size = Number(encoded.readBigUInt64BE(0));
    const signatureLength = encoded.readUInt16BE(8);
    const leaves = encoded.subarray(10 + signatureLength);
    if (!Number.isSafeInteger(size) || encoded.byteLength < 10 + signatureLength || leaves.byteLength % 32 !== 0) return null;
    return new BlockTree(size, Buffer.from(leaves), Buffer.from(encoded.subarray(10, 10 + signatureLength)));
  }
}
