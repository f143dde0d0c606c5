import type { Readable } from 'node:stream';
import type { BlobInfo, BlobStore } from './blob-store.ts';
import { digestMismatch } from './digests.ts';

/**
 * A copy through this process, for stores that cannot copy server-side (fs to GCS, GCS to fs,
 * GCS to another endpoint). The target's `put` checks the source's sha256 and size while it
 * writes, so a corrupted read leaves nothing under the target name.
 */
export async function streamCopy(source: { info: BlobInfo; stream: Readable }, target: BlobStore, targetName: string): Promise<BlobInfo> {
  const { info, stream } = source;
  const copied = await target.put(targetName, stream, { sha256: info.sha256, size: info.size, metadata: info.metadata });
  if (copied.sha256 !== info.sha256 || copied.size !== info.size) {
    // put verified the bytes already; this guards a target that reports something else.
    throw digestMismatch(`copy of ${info.bucket}/${info.name} to ${target.bucket}/${targetName}`, info, copied);
  }
  return copied;
}
