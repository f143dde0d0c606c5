// What only the S3 store promises, through the real @aws-sdk/client-s3 against the local S3
// server (s3rver plus what it lacks, test/support/s3-test-server.ts): one PutObject for small
// objects, multipart uploads straight to the name for large ones, Content-MD5 and ETag checks,
// retries and resumed downloads, server-side copies (CopyObject, and UploadPartCopy above the
// single-copy limit), and the cleanup of crashed writers' uploads.
import { Readable } from 'node:stream';
import { CreateMultipartUploadCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { S3Request, S3TestServer } from '../test/support/s3-test-server.ts';
import { S3BlobStore } from './s3-blob-store.ts';
import { partSizeOf } from './s3-parts.ts';
import { collect, crashWriterMidPut, expectCode, generatedSha256, generatedStream, openSite, sha256Hex, type StoreSite } from '../test/support/blob-stores.ts';

const MB = 1_000_000;
const MiB = 1 << 20;

describe('S3BlobStore', () => {
  let site: StoreSite;
  let s3: S3TestServer;
  let store: S3BlobStore;

  beforeEach(async () => {
    // Small parts, so that multipart uploads and copies happen with a few MB.
    site = await openSite('s3', { s3: { partSize: 5 * MiB, maxSingleCopyBytes: 6 * MB, copyPartSize: 5 * MiB } });
    s3 = site.s3!;
    store = (await site.open('fleetcast-main')) as S3BlobStore;
  });

  afterEach(async () => {
    await site.close();
  });

  async function requestsDuring(work: () => Promise<unknown>): Promise<S3Request[]> {
    const from = s3.requests.length;
    await work();
    return s3.requests.slice(from);
  }

  const kinds = (requests: S3Request[]): string[] => requests.map((r) => `${r.kind} ${r.status}`);
  const raw = () => new S3Client({ endpoint: s3.url, region: 'us-east-1', forcePathStyle: true, credentials: s3.credentials, requestChecksumCalculation: 'WHEN_REQUIRED' });

  it('puts an object smaller than a part with one PutObject carrying its sha256 and Content-MD5, then reads it back', async () => {
    const data = Buffer.alloc(MB, 1);
    const requests = await requestsDuring(() => store.put('artifacts/api/b1/x', Readable.from([data]), { sha256: sha256Hex(data), metadata: { service: 'api' } }));
    expect(kinds(requests)).toEqual(['object.put 200', 'object.head 200']);
    // Content-MD5 guards the bytes; the SDK does not hash them a third time for the signature.
    expect(requests[0]!.payloadHash).toBe('UNSIGNED-PAYLOAD');
    expect(await store.stat('artifacts/api/b1/x')).toMatchObject({ size: MB, sha256: sha256Hex(data), metadata: { service: 'api' } });
    expect(s3.objectNames('fleetcast-main')).toEqual(['artifacts/api/b1/x']);
  });

  it('refuses a small object with a wrong sha256 before sending anything', async () => {
    const requests = await requestsDuring(() => expectCode(store.put('artifacts/api/b1/x', Readable.from([Buffer.from('abc')]), { sha256: 'f'.repeat(64) }), 'DIGEST_MISMATCH'));
    expect(kinds(requests)).toEqual([]);
  });

  it('uploads a large object with a known sha256 as a multipart upload straight to its name', async () => {
    const size = 12 * MB;
    const sha256 = await generatedSha256(size, 4);
    const requests = await requestsDuring(() => store.put('artifacts/api/b2/x', generatedStream(size, 4), { sha256, size }));
    expect(kinds(requests)).toEqual(['upload.create 200', 'upload.part 200', 'upload.part 200', 'upload.part 200', 'upload.complete 200', 'object.head 200']);
    expect(requests.every((r) => r.key === 'artifacts/api/b2/x')).toBe(true);
    expect(requests.filter((r) => r.kind === 'upload.part').map((r) => r.payloadHash)).toEqual(['UNSIGNED-PAYLOAD', 'UNSIGNED-PAYLOAD', 'UNSIGNED-PAYLOAD']);
    expect(s3.objectNames('fleetcast-main')).toEqual(['artifacts/api/b2/x']);
    expect(sha256Hex(await collect(await store.get('artifacts/api/b2/x')))).toBe(sha256);
  });

  it('uploads a large object of unknown digest to a temporary object, then copies it into place with its sha256', async () => {
    const size = 5.5 * MB; // two parts, and under this site's single-copy limit
    const sha256 = await generatedSha256(size, 6);
    const requests = await requestsDuring(async () => expect(await store.put('logs/api/b3.log', generatedStream(size, 6))).toMatchObject({ size, sha256 }));
    expect(kinds(requests)).toEqual([
      'upload.create 200',
      'upload.part 200',
      'upload.part 200',
      'upload.complete 200',
      'object.head 200',
      'object.copy 200',
      'object.head 200',
      'object.delete 204',
    ]);
    expect(requests[0]!.key).toMatch(/^\.fleetcast-uploads\/[0-9a-f-]{36}$/);
    expect(s3.objectNames('fleetcast-main')).toEqual(['logs/api/b3.log']);
  });

  it('aborts a multipart upload whose digest is wrong: DIGEST_MISMATCH, the old object kept, no parts left', async () => {
    await store.put('artifacts/api/b4/x', Readable.from([Buffer.from('old')]));
    const requests = await requestsDuring(() => expectCode(store.put('artifacts/api/b4/x', generatedStream(11 * MB, 2), { sha256: 'e'.repeat(64) }), 'DIGEST_MISMATCH'));
    expect(kinds(requests).at(-1)).toBe('upload.abort 204');
    expect(kinds(requests)).not.toContain('upload.complete 200');
    expect((await collect(await store.get('artifacts/api/b4/x'))).toString()).toBe('old');
    expect(s3.pendingUploads('fleetcast-main')).toEqual([]);
  });

  it('sends a part again when S3 refuses it with BadDigest (damaged on the way)', async () => {
    const size = 11 * MB;
    const sha256 = await generatedSha256(size, 8);
    s3.corruptNextUploads(1);
    const requests = await requestsDuring(() => store.put('artifacts/api/b5/x', generatedStream(size, 8), { sha256 }));
    expect(kinds(requests).filter((k) => k.startsWith('upload.part'))).toEqual(['upload.part 400', 'upload.part 200', 'upload.part 200', 'upload.part 200']);
    expect(sha256Hex(await collect(await store.get('artifacts/api/b5/x')))).toBe(sha256);
  });

  it('catches damaged parts by their ETag on a server that ignores Content-MD5', async () => {
    const lax = await openSite('s3', { s3: { partSize: 5 * MiB }, s3Server: { checkContentMd5: false } });
    try {
      const laxStore = await lax.open('fleetcast-main');
      const size = 6 * MB;
      const sha256 = await generatedSha256(size, 9);
      lax.s3!.corruptNextUploads(1);
      const from = lax.s3!.requests.length;
      await laxStore.put('artifacts/api/b6/x', generatedStream(size, 9), { sha256 });
      // The first part was stored damaged (200) and its ETag gave it away: sent again.
      expect(lax.s3!.requests.slice(from).filter((r) => r.kind === 'upload.part' && r.status === 200)).toHaveLength(3);
      expect(sha256Hex(await collect(await laxStore.get('artifacts/api/b6/x')))).toBe(sha256);

      // A small object too: the PutObject is repeated.
      lax.s3!.corruptNextUploads(1);
      const data = Buffer.alloc(1000, 3);
      await laxStore.put('small/x', Readable.from([data]), { sha256: sha256Hex(data) });
      expect(sha256Hex(await collect(await laxStore.get('small/x')))).toBe(sha256Hex(data));
    } finally {
      await lax.close();
    }
  });

  it('retries 503 and 500 with backoff, gives up with STORAGE_UNAVAILABLE after its tries, and never retries a 404', async () => {
    await store.put('retry/a', Readable.from([Buffer.from('hello')]));
    s3.failNext({ status: 503, count: 2, match: (r) => r.kind === 'object.head' });
    expect(kinds(await requestsDuring(async () => expect((await store.stat('retry/a')).size).toBe(5)))).toEqual(['object.head 503', 'object.head 503', 'object.head 200']);

    s3.failNext({ status: 500, count: 1, match: (r) => r.kind === 'object.list' });
    const listed: string[] = [];
    for await (const entry of store.list('retry/')) listed.push(entry.name);
    expect(listed).toEqual(['retry/a']);

    const impatient = await S3BlobStore.open({ bucket: 'fleetcast-main', endpoint: s3.url, forcePathStyle: true, credentials: s3.credentials, retry: { maxAttempts: 3, initialDelayMs: 1 } });
    s3.failNext({ status: 503, count: 10, match: (r) => r.kind === 'object.head' });
    const err = await expectCode(impatient.stat('retry/a'), 'STORAGE_UNAVAILABLE');
    expect(err.message).toMatch(/after 3 tries/);
    s3.clearFailures();
    await impatient.close();

    expect(kinds(await requestsDuring(() => expectCode(store.stat('retry/absent'), 'NOT_FOUND')))).toEqual(['object.head 404']);
  });

  it('retries a failed part without sending the others again', async () => {
    const size = 11 * MB;
    const sha256 = await generatedSha256(size, 10);
    s3.failNext({ status: 503, count: 1, match: (r) => r.kind === 'upload.part' && r.url.includes('partNumber=2') });
    const requests = await requestsDuring(() => store.put('retry/parts', generatedStream(size, 10), { sha256 }));
    const parts = requests.filter((r) => r.kind === 'upload.part').map((r) => `${/partNumber=(\d+)/.exec(r.url)![1]} ${r.status}`);
    expect([...parts].sort()).toEqual(['1 200', '2 200', '2 503', '3 200']);
  });

  it('resumes a download cut off half-way from the byte it stopped at, and fails damaged reads', async () => {
    const size = 6 * MB;
    const sha256 = await generatedSha256(size, 5);
    await store.put('dl/x', generatedStream(size, 5), { sha256 });
    s3.truncateNextDownloads(1, 2 * MB + 5);
    const requests = await requestsDuring(async () => expect(sha256Hex(await collect(await store.get('dl/x')))).toBe(sha256));
    const reads = requests.filter((r) => r.kind === 'object.get');
    expect(reads.map((r) => r.range)).toEqual([`bytes=0-${size - 1}`, `bytes=${2 * MB + 5}-${size - 1}`]);

    s3.corruptNextDownloads(1);
    const err = await expectCode(collect(await store.get('dl/x')), 'DIGEST_MISMATCH');
    expect(err.message).toContain(sha256);
  });

  it('fails a read with CONFLICT when the object is replaced while it is read', async () => {
    const size = 6 * MB;
    await store.put('dl/y', generatedStream(size, 5), { sha256: await generatedSha256(size, 5) });
    s3.truncateNextDownloads(1, MB);
    const stream = await store.get('dl/y');
    await store.put('dl/y', Readable.from([Buffer.from('new')]));
    await expectCode(collect(stream), 'CONFLICT');
  });

  it('copies between buckets server-side with CopyObject: no bytes through this process', async () => {
    const region = await site.open('fleetcast-eu');
    const data = Buffer.alloc(4 * MB, 6);
    await store.put('artifacts/web/b7/x', Readable.from([data]), { sha256: sha256Hex(data), metadata: { service: 'web' } });
    const requests = await requestsDuring(async () =>
      expect(await store.copy('artifacts/web/b7/x', region)).toMatchObject({ bucket: 'fleetcast-eu', size: data.length, sha256: sha256Hex(data), metadata: { service: 'web' } }),
    );
    expect(kinds(requests)).toEqual(['object.head 200', 'object.copy 200', 'object.head 200']);
    expect(sha256Hex(await collect(await region.get('artifacts/web/b7/x')))).toBe(sha256Hex(data));
  });

  it('copies objects above the single-copy limit part by part (UploadPartCopy), server-side', async () => {
    const region = await site.open('fleetcast-eu');
    const size = 13 * MB;
    const sha256 = await generatedSha256(size, 12);
    await store.put('artifacts/web/b8/x', generatedStream(size, 12), { sha256, metadata: { service: 'web' } });
    const requests = await requestsDuring(async () => expect(await store.copy('artifacts/web/b8/x', region, 'copies/b8')).toMatchObject({ name: 'copies/b8', size, sha256, metadata: { service: 'web' } }));
    expect(kinds(requests)).toEqual(['object.head 200', 'upload.create 200', 'upload.partCopy 200', 'upload.partCopy 200', 'upload.partCopy 200', 'upload.complete 200', 'object.head 200']);
    expect(requests.filter((r) => r.kind === 'upload.partCopy').map((r) => r.range)).toEqual([`bytes=0-${5 * MiB - 1}`, `bytes=${5 * MiB}-${10 * MiB - 1}`, `bytes=${10 * MiB}-${size - 1}`]);
    expect(sha256Hex(await collect(await region.get('copies/b8')))).toBe(sha256);
    expect(s3.pendingUploads('fleetcast-eu')).toEqual([]);
  });

  it('copies across kinds by streaming, verified: fs to S3 and S3 to fs', async () => {
    const fsSite = await openSite('fs');
    try {
      const local = await fsSite.open('fleetcast-main');
      const size = 3 * MB + 7;
      const sha256 = await generatedSha256(size, 13);
      await local.put('artifacts/db/b1/x', generatedStream(size, 13), { sha256 });
      expect(await local.copy('artifacts/db/b1/x', store)).toMatchObject({ bucket: 'fleetcast-main', size, sha256 });
      expect(await store.copy('artifacts/db/b1/x', local, 'back/x')).toMatchObject({ name: 'back/x', size, sha256 });
      s3.corruptNextDownloads(1);
      await expectCode(store.copy('artifacts/db/b1/x', local, 'damaged/x'), 'DIGEST_MISMATCH');
      expect(await local.exists('damaged/x')).toBe(false);
    } finally {
      await fsSite.close();
    }
  });

  it('lists across pages in byte order', async () => {
    const paged = await S3BlobStore.open({ bucket: 'fleetcast-main', endpoint: s3.url, forcePathStyle: true, credentials: s3.credentials, listPageSize: 10 });
    const names = Array.from({ length: 25 }, (_, i) => `page/n${String(i).padStart(2, '0')}`);
    for (const name of names) await paged.put(name, Readable.from([Buffer.from(name)]));
    const requests = await requestsDuring(async () => {
      const listed: string[] = [];
      for await (const entry of paged.list('page/')) listed.push(entry.name);
      expect(listed).toEqual(names);
    });
    expect(kinds(requests)).toEqual(['object.list 200', 'object.list 200', 'object.list 200']);
    await paged.close();
  });

  it('fails to open a missing bucket unless asked to create it, naming the settings to check', async () => {
    const options = { bucket: 'fleetcast-nowhere', endpoint: s3.url, forcePathStyle: true, credentials: s3.credentials };
    const err = await expectCode(S3BlobStore.open(options), 'NOT_FOUND');
    expect(err.message).toMatch(/bucket fleetcast-nowhere does not exist.*FLEETCAST_S3_ENDPOINT/);
    await (await S3BlobStore.open({ ...options, createBucket: true })).close();
    await (await S3BlobStore.open(options)).close();
  });

  it('refuses unknown credentials with FORBIDDEN, pointing at the credential chain', async () => {
    const err = await expectCode(S3BlobStore.open({ bucket: 'fleetcast-main', endpoint: s3.url, forcePathStyle: true, credentials: { accessKeyId: 'NOBODY', secretAccessKey: 'wrong' } }), 'FORBIDDEN');
    expect(err.message).toMatch(/AWS_ACCESS_KEY_ID/);
  });

  it('never shows an upload whose writer was killed half-way; the next open after the grace removes its parts', async () => {
    await crashWriterMidPut({ kind: 's3', endpoint: s3.url, bucket: 'fleetcast-main', name: 'artifacts/api/b9/x', sha256: 'a'.repeat(64) });
    expect(await store.exists('artifacts/api/b9/x')).toBe(false);
    expect(s3.objectNames('fleetcast-main')).toEqual([]);
    expect(s3.pendingUploads('fleetcast-main')).toEqual(['artifacts/api/b9/x']);
    await (await S3BlobStore.open({ bucket: 'fleetcast-main', endpoint: s3.url, forcePathStyle: true, credentials: s3.credentials })).close();
    expect(s3.pendingUploads('fleetcast-main')).toEqual(['artifacts/api/b9/x']);
    await (await S3BlobStore.open({ bucket: 'fleetcast-main', endpoint: s3.url, forcePathStyle: true, credentials: s3.credentials, staleUploadMs: 0 })).close();
    expect(s3.pendingUploads('fleetcast-main')).toEqual([]);
  });

  it('removes temporary objects of crashed writers when they are old enough', async () => {
    const client = raw();
    await client.send(new PutObjectCommand({ Bucket: 'fleetcast-main', Key: '.fleetcast-uploads/left-by-a-crash', Body: Buffer.from('partial') }));
    await (await S3BlobStore.open({ bucket: 'fleetcast-main', endpoint: s3.url, forcePathStyle: true, credentials: s3.credentials })).close();
    expect(s3.objectNames('fleetcast-main')).toEqual(['.fleetcast-uploads/left-by-a-crash']);
    await new Promise((resolve) => setTimeout(resolve, 1_100)); // S3 times have whole seconds
    await (await S3BlobStore.open({ bucket: 'fleetcast-main', endpoint: s3.url, forcePathStyle: true, credentials: s3.credentials, staleUploadMs: 0 })).close();
    expect(s3.objectNames('fleetcast-main')).toEqual([]);
    client.destroy();
  });

  it('refuses objects it did not write (no sha256 metadata) with a clear message', async () => {
    const client = raw();
    await client.send(new PutObjectCommand({ Bucket: 'fleetcast-main', Key: 'foreign/x', Body: Buffer.from('not ours') }));
    client.destroy();
    expect((await expectCode(store.stat('foreign/x'), 'INTERNAL')).message).toMatch(/no sha256 metadata/);
  });

  it('makes parts bigger as an upload of unknown length goes on, to stay within 10,000 parts', () => {
    expect(partSizeOf(1, 8 * MiB)).toBe(8 * MiB);
    expect(partSizeOf(2_000, 8 * MiB)).toBe(8 * MiB);
    expect(partSizeOf(2_001, 8 * MiB)).toBe(16 * MiB);
    let total = 0;
    for (let n = 1; n <= 10_000; n++) total += partSizeOf(n, 8 * MiB);
    expect(total).toBeGreaterThan(400 * 1024 * MiB);
  });
});

describe('local S3 test server (s3rver and what it lacks)', () => {
  let s3: S3TestServer;
  let client: S3Client;

  beforeEach(async () => {
    const { S3TestServer } = await import('../test/support/s3-test-server.ts');
    s3 = await S3TestServer.start();
    client = new S3Client({ endpoint: s3.url, region: 'us-east-1', forcePathStyle: true, credentials: s3.credentials, requestChecksumCalculation: 'WHEN_REQUIRED' });
    const { CreateBucketCommand } = await import('@aws-sdk/client-s3');
    await client.send(new CreateBucketCommand({ Bucket: 'bbb' }));
  });

  afterEach(async () => {
    client.destroy();
    await s3.close();
  });

  it('lists in UTF-8 byte order across pages (s3rver alone lists in directory order and cannot page on Node 20)', async () => {
    const keys = ['x/api/b1', 'x/api-v2/b1', 'x/api.b', 'x/a', 'x/api/b10'];
    for (const key of keys) await client.send(new PutObjectCommand({ Bucket: 'bbb', Key: key, Body: Buffer.from(key) }));
    const seen: string[] = [];
    let token: string | undefined;
    do {
      const page = await client.send(new ListObjectsV2Command({ Bucket: 'bbb', MaxKeys: 2, ContinuationToken: token }));
      seen.push(...(page.Contents ?? []).map((o) => o.Key!));
      token = page.NextContinuationToken;
    } while (token);
    expect(seen).toEqual([...keys].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b))));
  });

  it('lists and aborts multipart uploads', async () => {
    const { AbortMultipartUploadCommand, ListMultipartUploadsCommand } = await import('@aws-sdk/client-s3');
    const created = await client.send(new CreateMultipartUploadCommand({ Bucket: 'bbb', Key: 'u/x' }));
    const listed = await client.send(new ListMultipartUploadsCommand({ Bucket: 'bbb' }));
    expect(listed.Uploads?.map((u) => [u.Key, u.UploadId])).toEqual([['u/x', created.UploadId]]);
    expect(listed.Uploads?.[0]?.Initiated).toBeInstanceOf(Date);
    await client.send(new AbortMultipartUploadCommand({ Bucket: 'bbb', Key: 'u/x', UploadId: created.UploadId }));
    expect(s3.pendingUploads('bbb')).toEqual([]);
    await expect(client.send(new AbortMultipartUploadCommand({ Bucket: 'bbb', Key: 'u/x', UploadId: created.UploadId }))).rejects.toMatchObject({ name: 'NoSuchUpload' });
  });
});
