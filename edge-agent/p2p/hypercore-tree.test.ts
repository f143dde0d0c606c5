// fleetcast's block tree is Hypercore's: the same bytes and key pair give the same core key,
// tree hash and signature as a real Hypercore; and the hypercore installed is the pinned one.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Hypercore from 'hypercore';
import hypercoreCrypto from 'hypercore-crypto';
import { describe, expect, it } from 'vitest';
import { coreKeyOf, installedHypercoreVersion, leafHash, pinnedHypercoreVersion, signTree, treeHash, verifyTree } from './hypercore-tree.ts';

describe('the Hypercore tree adapter', () => {
  it('uses the hypercore version package.json pins', () => {
    const pinned = (JSON.parse(fs.readFileSync(path.join(import.meta.dirname, '../../package.json'), 'utf8')) as { dependencies: Record<string, string> }).dependencies.hypercore;
    expect(pinned).toBe(pinnedHypercoreVersion);
    expect(installedHypercoreVersion()).toBe(pinnedHypercoreVersion);
  });

  it('gives the key, tree hash and signature a real Hypercore gives the same blocks (7 blocks, the last short)', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fleetcast-tree-'));
    try {
      const pair = hypercoreCrypto.keyPair(randomBytes(32));
      const keyPair = { publicKey: Buffer.from(pair.publicKey), secretKey: Buffer.from(pair.secretKey) };
      const blocks = [...Array(7)].map((_, i) => randomBytes(i === 6 ? 1234 : 4096));
      const core = new Hypercore(dir, { keyPair });
      await core.ready();
      await core.append(blocks);
      const leaves = Buffer.concat(blocks.map(leafHash));
      const hash = treeHash(leaves, (i) => blocks[i]!.byteLength);
      expect(hash.equals(await core.treeHash())).toBe(true);
      expect(coreKeyOf(keyPair.publicKey).equals(core.key)).toBe(true);
      const signature = signTree(hash, 7, keyPair);
      const stored = (core as unknown as { state: { signature: Buffer } }).state.signature;
      expect(signature.equals(Buffer.from(stored))).toBe(true);
      expect(verifyTree(hash, 7, signature, keyPair.publicKey)).toBe(true);
      // Another length, another block, another signer: refused.
      expect(verifyTree(hash, 6, signature, keyPair.publicKey)).toBe(false);
      const otherLeaves = Buffer.from(leaves);
      otherLeaves[40] = otherLeaves[40]! ^ 1;
      expect(verifyTree(treeHash(otherLeaves, (i) => blocks[i]!.byteLength), 7, signature, keyPair.publicKey)).toBe(false);
      expect(verifyTree(hash, 7, signature, hypercoreCrypto.keyPair().publicKey)).toBe(false);
      await core.close();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
