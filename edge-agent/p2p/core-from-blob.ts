import { createHash } from 'node:crypto';
import path from 'node:path';
import type { Readable } from 'node:stream';
import type { BlobStore } from '../../blobstore/index.ts';
import { FleetcastError } from '../../errors/index.ts';
import type { ArtifactCore } from './artifact-core.ts';
import { coreBlockSize } from '../../goalstate/index.ts';
import { fixedBlocks } from './fixed-blocks.ts';
import { leafHash } from './hypercore-tree.ts';

/**
 * Streams a build's object from the regional bucket into the core's file (`<core dir>/data`),
 * block by block, hashing each block for the tree and the whole for its sha256; signs the tree
 * and marks the core verified only when the whole object matched the build's sha256 and size. A
 * damaged object throws DIGEST_MISMATCH (early, as soon as it runs past the expected size): the
 * caller must then drop the core — it was never announced, so no peer saw a block of it. Memory
 * stays at one block whatever the size; every byte is written once.
 */
export async function fillCoreFromBlob(core: ArtifactCore, store: BlobStore, objectName: string, signal?: AbortSignal): Promise<{ bytes: number }> {
  const { build } = core;
  if (core.tree !== null) {
    throw new FleetcastError('INTERNAL', `the core of build ${build.build} in ${core.dir} already has a tree; drop it before filling it again`, { dir: core.dir });
  }
  await core.useFile(path.join(core.dir, 'data'));
  // The store's own check (its recorded sha256) would hash every byte a second time; the
  // build's digest from the goal is the one that matters, and it is checked here.
  const stream: Readable = await store.get(objectName, { verify: false });
  const onAbort = () => stream.destroy(signal!.reason as Error);
  signal?.addEventListener('abort', onAbort, { once: true });
  const hash = createHash('sha256');
  const leaves = Buffer.alloc(core.blocks * 32);
  let bytes = 0;
  let index = 0;
  try {
    signal?.throwIfAborted();
    for await (const block of fixedBlocks(stream, coreBlockSize)) {
      bytes += block.byteLength;
      if (bytes > build.size) break;
      hash.update(block);
      leafHash(block).copy(leaves, index * 32);
      await core.writeBlock(index, block);
      index++;
    }
  } finally {
    signal?.removeEventListener('abort', onAbort);
    stream.destroy();
  }
  signal?.throwIfAborted();
  const sha256 = bytes > build.size ? null : hash.digest('hex');
  if (bytes !== build.size || sha256 !== build.digest) {
    const found = bytes > build.size ? `more than ${build.size} bytes` : `${bytes} bytes with sha256 ${sha256}`;
    throw new FleetcastError(
      'DIGEST_MISMATCH',
      `the copy of build ${build.build} (${build.service}) in bucket ${store.bucket} at ${objectName} is damaged: it has ${found}, the build has ${build.size} bytes with sha256 ${build.digest}. No core was made from it; the replication auditor copies a damaged object again (or run fleetcast replicate ${build.build})`,
      { bucket: store.bucket, object: objectName, build: build.build, expected: { sha256: build.digest, size: build.size }, actual: { sha256, size: bytes } },
    );
  }
  await core.truncateFile();
  await core.sync();
  await core.signTree(leaves);
  await core.holdAll();
  await core.markVerified();
  return { bytes };
}
