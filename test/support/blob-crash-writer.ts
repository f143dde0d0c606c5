// Run by tests in a child process: starts a put of an endless stream, says "writing" once
// 4 MiB went out, then keeps writing slowly until the test kills it with SIGKILL — a writer
// that crashes half-way, with no chance to clean up.
import { Readable } from 'node:stream';
import { setTimeout as delay } from 'node:timers/promises';
import type { BlobStore } from '../../blobstore/blob-store.ts';
import { FsBlobStore } from '../../blobstore/fs-blob-store.ts';
import { GcsBlobStore } from '../../blobstore/gcs-blob-store.ts';
import { S3BlobStore } from '../../blobstore/s3-blob-store.ts';

const { kind, root, endpoint, bucket, name, sha256 } = JSON.parse(process.argv[2] ?? '{}') as Record<string, string>;
const store: BlobStore =
  kind === 'fs'
    ? await FsBlobStore.open({ root: root!, bucket: bucket! })
    : kind === 's3'
      ? await S3BlobStore.open({ bucket: bucket!, endpoint, forcePathStyle: true, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' }, partSize: 5 << 20 })
      : await GcsBlobStore.open({ bucket: bucket!, apiEndpoint: endpoint, projectId: 'fleetcast-test' });

async function* endless(): AsyncGenerator<Buffer> {
  for (let sent = 0; ; sent += 1 << 20) {
    if (sent === 4 << 20) process.stdout.write('writing\n');
    if (sent >= 4 << 20) await delay(20);
    yield Buffer.alloc(1 << 20, sent & 0xff);
  }
}

await store.put(name!, Readable.from(endless()), sha256 ? { sha256 } : {});
