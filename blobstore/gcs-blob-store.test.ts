// What only the GCS store promises, through the real client against the fake GCS server:
// verified puts through a temporary object, retries and resumed transfers, server-side
// copies, and the fake's own API surface.
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Storage } from '@google-cloud/storage';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeGcsServer, type FakeRequest } from '../test/support/fake-gcs-server.ts';
import { crc32cBase64, crc32cUpdate } from './crc32c.ts';
import { GcsBlobStore } from './gcs-blob-store.ts';
import { collect, crashWriterMidPut, expectCode, generatedSha256, generatedStream, openSite, sha256Hex, type StoreSite } from '../test/support/blob-stores.ts';

const MB = 1_000_000;

describe('GcsBlobStore', () => {
  let site: StoreSite;
  let fake: FakeGcsServer;
  let store: GcsBlobStore;

  beforeEach(async () => {
    site = await openSite('gcs');
    fake = site.fake!;
    store = (await site.open('fleetcast-main')) as GcsBlobStore;
  });

  afterEach(async () => {
    await site.close();
  });

  /** The requests made while `work` ran. */
  async function requestsDuring(work: () => Promise<unknown>): Promise<FakeRequest[]> {
    const from = fake.requests.length;
    await work();
    return fake.requests.slice(from);
  }

  const kinds = (requests: FakeRequest[]): string[] => requests.map((r) => `${r.kind} ${r.status}`);

  it('uploads to a temporary object, moves it into place server-side with its sha256, re-reads it, then drops the temporary one', async () => {
    const data = Buffer.alloc(3 * MB, 9);
    const requests = await requestsDuring(() => store.put('artifacts/api/b1/x', Readable.from([data]), { sha256: sha256Hex(data) }));
    expect(kinds(requests)).toEqual([
      'upload.resumable.start 200',
      'upload.resumable.put 200',
      'object.rewrite 200',
      'object.get 200',
      'object.delete 204',
    ]);
    expect(requests[0]!.url).toMatch(/name=\.fleetcast-uploads%2F[0-9a-f-]{36}/);
    expect(requests[2]!.url).toMatch(/rewriteTo\/b\/fleetcast-main\/o\/artifacts%2Fapi%2Fb1%2Fx/);
    expect(fake.objectNames('fleetcast-main')).toEqual(['artifacts/api/b1/x']);

    const [metadata] = await new Storage({ apiEndpoint: fake.url, projectId: 'x' }).bucket('fleetcast-main').file('artifacts/api/b1/x').getMetadata();
    expect(metadata.metadata).toEqual({ sha256: sha256Hex(data) });
    expect(metadata.crc32c).toBe(crc32cBase64(crc32cUpdate(0, data)));
  });

  it('fails with DIGEST_MISMATCH, keeping nothing, when GCS stores other bytes than were sent (crc32c check)', async () => {
    fake.corruptNextUploads(1);
    const data = Buffer.alloc(2 * MB, 3);
    const err = await expectCode(store.put('artifacts/api/b2/x', Readable.from([data]), { sha256: sha256Hex(data) }), 'DIGEST_MISMATCH');
    expect(err.message).toMatch(/crc32c/);
    expect(fake.objectNames('fleetcast-main')).toEqual([]);
  });

  it('never shows an upload whose writer was killed half-way', async () => {
    await crashWriterMidPut({ kind: 'gcs', endpoint: fake.url, bucket: 'fleetcast-main', name: 'artifacts/api/b3/x' });
    expect(await store.exists('artifacts/api/b3/x')).toBe(false);
    expect(fake.objectNames('fleetcast-main')).toEqual([]);
    expect(fake.openUploads).toBe(1);
  });

  it('retries metadata reads through 503s with backoff', async () => {
    await store.put('retry/a', Readable.from([Buffer.from('hello')]));
    fake.failNext({ status: 503, count: 2, match: (r) => r.kind === 'object.get' });
    const requests = await requestsDuring(async () => expect((await store.stat('retry/a')).size).toBe(5));
    expect(kinds(requests)).toEqual(['object.get 503', 'object.get 503', 'object.get 200']);
  });

  it('retries 429 and 500 too, on deletes and lists', async () => {
    await store.put('retry/b', Readable.from([Buffer.from('x')]));
    fake.failNext({ status: 429, count: 1, match: (r) => r.kind === 'object.list' });
    fake.failNext({ status: 500, count: 1, match: (r) => r.kind === 'object.delete' });
    const listed: string[] = [];
    for await (const entry of store.list('retry/')) listed.push(entry.name);
    expect(listed).toEqual(['retry/b']);
    expect(await store.delete('retry/b')).toBe(true);
    expect(fake.requests.filter((r) => r.status === 429 || r.status === 500)).toHaveLength(2);
  });

  it('gives up with STORAGE_UNAVAILABLE after its tries, saying so', async () => {
    const impatient = await GcsBlobStore.open({ bucket: 'fleetcast-main', apiEndpoint: fake.url, retry: { maxAttempts: 3, initialDelayMs: 1 } });
    fake.failNext({ status: 503, count: 10, match: (r) => r.kind === 'object.get' });
    const err = await expectCode(impatient.stat('retry/c'), 'STORAGE_UNAVAILABLE');
    expect(err.message).toMatch(/after 3 tries/);
    expect(fake.requests.filter((r) => r.kind === 'object.get')).toHaveLength(3);
  });

  it('does not retry what a retry cannot fix (404)', async () => {
    const requests = await requestsDuring(() => expectCode(store.stat('retry/absent'), 'NOT_FOUND'));
    expect(kinds(requests)).toEqual(['object.get 404']);
  });

  it('retries a 503 at the start of an upload session', async () => {
    const data = Buffer.alloc(MB, 4);
    fake.failNext({ status: 503, count: 1, match: (r) => r.kind === 'upload.resumable.start' });
    const requests = await requestsDuring(() => store.put('retry/upload', Readable.from([data]), { sha256: sha256Hex(data) }));
    expect(kinds(requests).slice(0, 3)).toEqual(['upload.resumable.start 503', 'upload.resumable.start 200', 'upload.resumable.put 200']);
    expect(await store.stat('retry/upload')).toMatchObject({ size: MB, sha256: sha256Hex(data) });
  });

  it('resumes an upload whose data request failed after the server kept the bytes', async () => {
    const size = 8 * MB;
    const sha256 = await generatedSha256(size, 21);
    fake.failNext({ status: 503, count: 1, afterBody: true, match: (r) => r.kind === 'upload.resumable.put' });
    const requests = await requestsDuring(() => store.put('retry/resumed', generatedStream(size, 21), { sha256 }));
    // The failed request, then the client's status query and the finishing request.
    expect(kinds(requests).filter((k) => k.startsWith('upload.resumable.put'))).toEqual([
      'upload.resumable.put 503',
      'upload.resumable.put 308',
      'upload.resumable.put 200',
    ]);
    expect(await store.stat('retry/resumed')).toMatchObject({ size, sha256 });
  });

  it('retries a download that got a 503, and resumes one cut off half-way from where it stopped', async () => {
    const size = 6 * MB;
    const sha256 = await generatedSha256(size, 5);
    await store.put('retry/dl', generatedStream(size, 5), { sha256 });

    fake.failNext({ status: 503, count: 1, match: (r) => r.kind === 'object.download' });
    expect(sha256Hex(await collect(await store.get('retry/dl')))).toBe(sha256);

    // A connection dropped mid-body: the client library never reports it; the stall timer does.
    const watchful = await GcsBlobStore.open({ bucket: 'fleetcast-main', apiEndpoint: fake.url, stallTimeoutMs: 300, retry: { initialDelayMs: 5 } });
    fake.truncateNextDownloads(1, 2 * MB + 5);
    const requests = await requestsDuring(async () => expect(sha256Hex(await collect(await watchful.get('retry/dl')))).toBe(sha256));
    const downloads = requests.filter((r) => r.kind === 'object.download');
    expect(downloads).toHaveLength(2);
    expect(downloads[0]!.range).toBe(`bytes=0-${size - 1}`);
    // The second request asked only for what was missing.
    expect(downloads[1]!.range).toBe(`bytes=${2 * MB + 5}-${size - 1}`);
  });

  it('fails a whole-object read with DIGEST_MISMATCH when the bytes arrive damaged', async () => {
    const data = Buffer.alloc(2 * MB, 8);
    await store.put('verify/x', Readable.from([data]), { sha256: sha256Hex(data) });
    fake.corruptNextDownloads(1);
    const err = await expectCode(collect(await store.get('verify/x')), 'DIGEST_MISMATCH');
    expect(err.message).toContain(sha256Hex(data));
  });

  it('copies between GCS buckets server-side: no bytes through this process', async () => {
    const region = await site.open('fleetcast-us-east');
    const size = 4 * MB;
    const sha256 = await generatedSha256(size, 8);
    await store.put('artifacts/web/b5/x', generatedStream(size, 8), { sha256, metadata: { service: 'web' } });
    const requests = await requestsDuring(async () =>
      expect(await store.copy('artifacts/web/b5/x', region)).toMatchObject({ bucket: 'fleetcast-us-east', size, sha256, metadata: { service: 'web' } }),
    );
    expect(kinds(requests)).toEqual(['object.get 200', 'object.rewrite 200', 'object.get 200']);
    expect(sha256Hex(await collect(await region.get('artifacts/web/b5/x')))).toBe(sha256);
  });

  it('copies across kinds by streaming, verified: fs to GCS and GCS to fs', async () => {
    const fsSite = await openSite('fs');
    try {
      const local = await fsSite.open('fleetcast-main');
      const size = 3 * MB + 7;
      const sha256 = await generatedSha256(size, 13);
      await local.put('artifacts/db/b1/x', generatedStream(size, 13), { sha256 });
      expect(await local.copy('artifacts/db/b1/x', store)).toMatchObject({ bucket: 'fleetcast-main', size, sha256 });
      expect(await store.copy('artifacts/db/b1/x', local, 'back/x')).toMatchObject({ name: 'back/x', size, sha256 });
      expect(sha256Hex(await collect(await local.get('back/x')))).toBe(sha256);

      // A copy whose bytes get damaged on the way is refused by the target's digest check.
      fake.corruptNextDownloads(1);
      await expectCode(store.copy('artifacts/db/b1/x', local, 'damaged/x'), 'DIGEST_MISMATCH');
      expect(await local.exists('damaged/x')).toBe(false);
    } finally {
      await fsSite.close();
    }
  });

  it('lists across pages', async () => {
    const paged = await GcsBlobStore.open({ bucket: 'fleetcast-main', apiEndpoint: fake.url, listPageSize: 10 });
    const names = Array.from({ length: 25 }, (_, i) => `page/n${String(i).padStart(2, '0')}`);
    for (const name of names) await paged.put(name, Readable.from([Buffer.from(name)]));
    const requests = await requestsDuring(async () => {
      const listed: string[] = [];
      for await (const entry of paged.list('page/')) listed.push(entry.name);
      expect(listed).toEqual(names);
    });
    expect(kinds(requests)).toEqual(['object.list 200', 'object.list 200', 'object.list 200']);
  });

  it('fails to open a missing bucket unless asked to create it', async () => {
    const err = await expectCode(GcsBlobStore.open({ bucket: 'fleetcast-nowhere', apiEndpoint: fake.url }), 'NOT_FOUND');
    expect(err.message).toMatch(/bucket fleetcast-nowhere does not exist/);
    await GcsBlobStore.open({ bucket: 'fleetcast-nowhere', apiEndpoint: fake.url, projectId: 'p', createBucket: true });
    await GcsBlobStore.open({ bucket: 'fleetcast-nowhere', apiEndpoint: fake.url });
  });

  it('removes unfinished uploads of crashed writers when they are old enough', async () => {
    const raw = new Storage({ apiEndpoint: fake.url, projectId: 'x' }).bucket('fleetcast-main');
    await raw.file('.fleetcast-uploads/left-by-a-crash').save(Buffer.from('partial'), { resumable: false });
    await GcsBlobStore.open({ bucket: 'fleetcast-main', apiEndpoint: fake.url });
    expect(fake.objectNames('fleetcast-main')).toEqual(['.fleetcast-uploads/left-by-a-crash']);
    await GcsBlobStore.open({ bucket: 'fleetcast-main', apiEndpoint: fake.url, staleUploadMs: 0 });
    expect(fake.objectNames('fleetcast-main')).toEqual([]);
  });

  it('refuses objects it did not write (no sha256 metadata) with a clear message', async () => {
    const raw = new Storage({ apiEndpoint: fake.url, projectId: 'x' }).bucket('fleetcast-main');
    await raw.file('foreign/x').save(Buffer.from('not ours'), { resumable: false });
    const err = await expectCode(store.stat('foreign/x'), 'INTERNAL');
    expect(err.message).toMatch(/no sha256 metadata/);
  });
});

describe('fake GCS server', () => {
  let fake: FakeGcsServer;
  let storage: Storage;

  beforeEach(async () => {
    fake = await FakeGcsServer.start();
    storage = new Storage({ apiEndpoint: fake.url, projectId: 'x' });
    await storage.createBucket('fake-bucket');
  });

  afterEach(async () => {
    await fake.close();
  });

  it('takes multipart and resumable uploads, serves ranges, patches metadata and lists with a delimiter', async () => {
    const bucket = storage.bucket('fake-bucket');
    const data = Buffer.from('0123456789');
    await bucket.file('dir/multipart').save(data, { resumable: false, metadata: { metadata: { a: '1' } } });
    await pipeline(Readable.from([data]), bucket.file('dir/sub/resumable').createWriteStream({ resumable: true }));
    expect(fake.requests.map((r) => r.kind)).toContain('upload.multipart');
    expect((await collect(bucket.file('dir/multipart').createReadStream({ start: 2, end: 4 }))).toString()).toBe('234');
    expect((await collect(bucket.file('dir/sub/resumable').createReadStream())).toString()).toBe('0123456789');

    await bucket.file('dir/multipart').setMetadata({ metadata: { b: '2' } });
    expect((await bucket.file('dir/multipart').getMetadata())[0].metadata).toEqual({ a: '1', b: '2' });

    const [files, , response] = await bucket.getFiles({ prefix: 'dir/', delimiter: '/', autoPaginate: false });
    expect(files.map((f) => f.name)).toEqual(['dir/multipart']);
    expect((response as { prefixes?: string[] }).prefixes).toEqual(['dir/sub/']);
  });

  it('answers 416 to a range past the end, 404 to absent objects and 412 to failed preconditions', async () => {
    const bucket = storage.bucket('fake-bucket');
    await bucket.file('x').save(Buffer.from('abc'), { resumable: false });
    const res = await fetch(`${fake.url}/storage/v1/b/fake-bucket/o/x?alt=media`, { headers: { Range: 'bytes=10-20' } });
    expect(res.status).toBe(416);
    expect((await fetch(`${fake.url}/storage/v1/b/fake-bucket/o/nope`)).status).toBe(404);
    await expect(bucket.file('x').save(Buffer.from('d'), { resumable: false, preconditionOpts: { ifGenerationMatch: 0 } })).rejects.toMatchObject({ code: 412 });
  });
});
