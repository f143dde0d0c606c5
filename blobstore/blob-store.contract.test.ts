// The behaviour every BlobStore promises, run against the filesystem store, the GCS store (the
// real @google-cloud/storage client talking to the fake GCS server) and the S3 store (the real
// @aws-sdk/client-s3 talking to s3rver, test/support/s3-test-server.ts).
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BlobStore, BlobStoreKind } from './blob-store.ts';
import { artifactObjectName } from './names.ts';
import { collect, expectCode, generatedSha256, generatedStream, openSite, sha256Hex, sha256Of, type StoreSite } from '../test/support/blob-stores.ts';

const MB = 1_000_000;

describe.each<BlobStoreKind>(['fs', 'gcs', 's3'])('BlobStore contract: %s', (kind) => {
  let site: StoreSite;
  let main: BlobStore;
  let region: BlobStore;
  let bucketCount = 0;

  /** A store on a bucket no other test uses. */
  async function freshStore(): Promise<BlobStore> {
    bucketCount += 1;
    return site.open(`fleetcast-t${bucketCount}`);
  }

  beforeAll(async () => {
    site = await openSite(kind);
    main = await site.open('fleetcast-main');
    region = await site.open('fleetcast-eu-west');
  });

  afterAll(async () => {
    await site.close();
  });

  it('puts and gets back a multi-MB object, byte for byte, with its sha256, size and metadata', async () => {
    const size = 12 * MB + 123;
    const sha256 = await generatedSha256(size, 7);
    const name = artifactObjectName('api', 42, sha256);
    const info = await main.put(name, generatedStream(size, 7), { sha256, size, metadata: { service: 'api', build: 'b42' } });
    expect(info).toMatchObject({ bucket: 'fleetcast-main', name, size, sha256, metadata: { service: 'api', build: 'b42' } });
    expect(info.updated).toBeInstanceOf(Date);

    expect(await sha256Of(await main.get(name))).toBe(sha256);
    const again = await collect(await main.get(name));
    expect(again.length).toBe(size);
    expect(again.equals(await collect(generatedStream(size, 7)))).toBe(true);
    expect(await main.stat(name)).toEqual(info);
    expect(await main.exists(name)).toBe(true);
  });

  it('reads byte ranges: inclusive ends, open ends clamped, starts past the end refused', async () => {
    const data = Buffer.from('0123456789abcdefghij');
    await main.put('ranges/r1', Readable.from([data]), { sha256: sha256Hex(data) });
    expect((await collect(await main.get('ranges/r1', { range: { start: 3, end: 7 } }))).toString()).toBe('34567');
    expect((await collect(await main.get('ranges/r1', { range: { start: 15 } }))).toString()).toBe('fghij');
    expect((await collect(await main.get('ranges/r1', { range: { end: 2 } }))).toString()).toBe('012');
    expect((await collect(await main.get('ranges/r1', { range: { start: 18, end: 1000 } }))).toString()).toBe('ij');
    expect((await collect(await main.get('ranges/r1', { range: { start: 19, end: 19 } }))).toString()).toBe('j');
    await expectCode(main.get('ranges/r1', { range: { start: 20 } }), 'INVALID_INPUT');
    await expectCode(main.get('ranges/r1', { range: { start: 5, end: 4 } }), 'INVALID_INPUT');
    await expectCode(main.get('ranges/r1', { range: { start: -1 } }), 'INVALID_INPUT');
  });

  it('reads a range deep inside a large object without reading the rest', async () => {
    const size = 6 * MB;
    const sha256 = await generatedSha256(size, 3);
    await main.put('ranges/large', generatedStream(size, 3), { sha256 });
    const whole = await collect(generatedStream(size, 3));
    const part = await collect(await main.get('ranges/large', { range: { start: 5 * MB + 17, end: 5 * MB + 17 + 65_535 } }));
    expect(part.equals(whole.subarray(5 * MB + 17, 5 * MB + 17 + 65_536))).toBe(true);
  });

  it('stores an empty object', async () => {
    const info = await main.put('empty/e', Readable.from([]), { sha256: sha256Hex(''), size: 0 });
    expect(info.size).toBe(0);
    expect((await collect(await main.get('empty/e'))).length).toBe(0);
  });

  it('answers NOT_FOUND for absent objects and exists() false', async () => {
    expect(await main.exists('nope/absent')).toBe(false);
    const err = await expectCode(main.stat('nope/absent'), 'NOT_FOUND');
    expect(err.message).toContain('fleetcast-main/nope/absent');
    await expectCode(main.get('nope/absent'), 'NOT_FOUND');
    await expectCode(main.copy('nope/absent', region), 'NOT_FOUND');
    expect(await main.exists('nope')).toBe(false);
  });

  it('lists by prefix in name order, with sizes, and nothing of its bookkeeping', async () => {
    const store = await freshStore();
    const names = ['builds/api/b10/x', 'builds/api/b1/x', 'builds/api-v2/b1/x', 'builds/web/b1/x', 'builds/api/b2.log', 'other/y'];
    for (const [i, name] of names.entries()) await store.put(name, Readable.from([Buffer.alloc(i + 1, 1)]));
    const all = [];
    for await (const entry of store.list()) all.push(entry);
    expect(all.map((e) => e.name)).toEqual([...names].sort((a, b) => (Buffer.from(a) < Buffer.from(b) ? -1 : 1)));
    expect(all.map((e) => e.name)).toEqual(['builds/api-v2/b1/x', 'builds/api/b1/x', 'builds/api/b10/x', 'builds/api/b2.log', 'builds/web/b1/x', 'other/y']);
    expect(all.find((e) => e.name === 'builds/web/b1/x')?.size).toBe(4);

    const api = [];
    for await (const entry of store.list('builds/api/')) api.push(entry.name);
    expect(api).toEqual(['builds/api/b1/x', 'builds/api/b10/x', 'builds/api/b2.log']);
    const partial = [];
    for await (const entry of store.list('builds/api/b1')) partial.push(entry.name);
    expect(partial).toEqual(['builds/api/b1/x', 'builds/api/b10/x']);
    const none = [];
    for await (const entry of store.list('nothing/')) none.push(entry.name);
    expect(none).toEqual([]);
  });

  it('deletes: true when it existed, false after, and the object is gone from get and list', async () => {
    const store = await freshStore();
    await store.put('del/a', Readable.from([Buffer.from('a')]));
    await store.put('del/b', Readable.from([Buffer.from('b')]));
    expect(await store.delete('del/a')).toBe(true);
    expect(await store.delete('del/a')).toBe(false);
    expect(await store.exists('del/a')).toBe(false);
    await expectCode(store.get('del/a'), 'NOT_FOUND');
    const left = [];
    for await (const entry of store.list('del/')) left.push(entry.name);
    expect(left).toEqual(['del/b']);
  });

  it('replaces an object: the new bytes, digest and metadata win', async () => {
    await main.put('replace/r', Readable.from([Buffer.from('first')]), { metadata: { v: '1' } });
    const second = await main.put('replace/r', Readable.from([Buffer.from('second!')]), { metadata: { v: '2' } });
    expect(second).toMatchObject({ size: 7, sha256: sha256Hex('second!'), metadata: { v: '2' } });
    expect((await collect(await main.get('replace/r'))).toString()).toBe('second!');
    expect(await main.stat('replace/r')).toMatchObject({ size: 7, sha256: sha256Hex('second!'), metadata: { v: '2' } });
  });

  it('copies to another bucket and verifies the digest there', async () => {
    const size = 5 * MB + 1;
    const sha256 = await generatedSha256(size, 11);
    const name = artifactObjectName('web', 'b7', sha256);
    await main.put(name, generatedStream(size, 11), { sha256, metadata: { service: 'web' } });
    const copied = await main.copy(name, region);
    expect(copied).toMatchObject({ bucket: 'fleetcast-eu-west', name, size, sha256, metadata: { service: 'web' } });
    expect(await sha256Of(await region.get(name))).toBe(sha256);
    expect(await main.exists(name)).toBe(true);

    const renamed = await main.copy(name, region, 'renamed/copy');
    expect(renamed).toMatchObject({ name: 'renamed/copy', size, sha256 });
  });

  it('refuses a put whose sha256 is wrong: DIGEST_MISMATCH and nothing left behind', async () => {
    const store = await freshStore();
    const size = 3 * MB;
    const wrong = 'f'.repeat(64);
    const err = await expectCode(store.put('builds/bad', generatedStream(size, 5), { sha256: wrong }), 'DIGEST_MISMATCH');
    expect(err.message).toContain(wrong);
    expect(err.message).toContain(await generatedSha256(size, 5));
    expect(await store.exists('builds/bad')).toBe(false);
    expect(site.leftovers(store.bucket)).toEqual([]);
  });

  it('refuses a put whose size is wrong: DIGEST_MISMATCH and nothing left behind', async () => {
    const store = await freshStore();
    await expectCode(store.put('builds/short', generatedStream(1000, 5), { sha256: await generatedSha256(1000, 5), size: 1001 }), 'DIGEST_MISMATCH');
    expect(await store.exists('builds/short')).toBe(false);
    expect(site.leftovers(store.bucket)).toEqual([]);
  });

  it('leaves no object when the writer fails half-way (input aborted), and keeps the old one', async () => {
    const store = await freshStore();
    await store.put('builds/crash', Readable.from([Buffer.from('previous version')]));
    const before = site.leftovers(store.bucket);
    const err = await store.put('builds/crash', generatedStream(8 * MB, 9, { failAfter: 4 * MB })).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(err?.message).toBe('source aborted half-way');
    expect((await collect(await store.get('builds/crash'))).toString()).toBe('previous version');
    await expectCode(store.get('builds/never'), 'NOT_FOUND');
    expect(await store.put('builds/never', generatedStream(8 * MB, 9, { failAfter: 2 * MB })).catch((e: Error) => e.message)).toBe('source aborted half-way');
    expect(await store.exists('builds/never')).toBe(false);
    expect(site.leftovers(store.bucket)).toEqual(before);
  });

  it('detects stored bytes that no longer match their digest when reading the whole object', async () => {
    const store = await freshStore();
    const data = Buffer.alloc(300_000, 7);
    await store.put('rot/x', Readable.from([data]), { sha256: sha256Hex(data) });
    await damage(site, store, 'rot/x');
    const stream = await store.get('rot/x');
    const err = await expectCode(collect(stream), 'DIGEST_MISMATCH');
    expect(err.message).toContain('rot/x');
    // Ranges cannot be checked; a reader that verifies itself can opt out.
    expect((await collect(await store.get('rot/x', { verify: false }))).length).toBe(data.length);
  });

  it.each([
    ['../escape', 'a "..", to leave the bucket'],
    ['builds/../../etc/passwd', 'a ".." inside'],
    ['/etc/passwd', 'an absolute path'],
    ['builds//x', 'an empty segment'],
    ['builds/x/', 'a trailing slash'],
    ['builds/./x', 'a "." segment'],
    ['.fleetcast/tmp/x', 'a dot segment (bookkeeping)'],
    ['builds/x\\..\\y', 'backslashes'],
    ['', 'nothing'],
  ])('rejects the object name %j (%s) in every operation', async (name) => {
    await expectCode(main.put(name, Readable.from([Buffer.from('x')])), 'INVALID_INPUT');
    await expectCode(main.get(name), 'INVALID_INPUT');
    await expectCode(main.stat(name), 'INVALID_INPUT');
    await expectCode(main.exists(name), 'INVALID_INPUT');
    await expectCode(main.delete(name), 'INVALID_INPUT');
    await expectCode(main.copy(name, region), 'INVALID_INPUT');
    await expectCode(main.copy('ranges/r1', region, name), 'INVALID_INPUT');
    await expectCode(main.openLog(name), 'INVALID_INPUT');
    await expectCode(main.readLog(name), 'INVALID_INPUT');
  });

  it('rejects list prefixes that climb out of the bucket', async () => {
    await expectCode(collect(main.list('../') as AsyncIterable<never>), 'INVALID_INPUT');
    await expectCode(collect(main.list('/etc') as AsyncIterable<never>), 'INVALID_INPUT');
  });

  it('rejects bad put options before writing anything', async () => {
    await expectCode(main.put('opts/x', Readable.from([Buffer.from('x')]), { sha256: 'ABC' }), 'INVALID_INPUT');
    await expectCode(main.put('opts/x', Readable.from([Buffer.from('x')]), { size: -1 }), 'INVALID_INPUT');
    await expectCode(main.put('opts/x', Readable.from([Buffer.from('x')]), { metadata: { sha256: 'x' } }), 'INVALID_INPUT');
    await expectCode(main.put('opts/x', Readable.from([Buffer.from('x')]), { metadata: { 'bad key': 'x' } }), 'INVALID_INPUT');
    expect(await main.exists('opts/x')).toBe(false);
  });

  it('streams a build log that readers follow while it is written, then closes it as an object', async () => {
    const store = await freshStore();
    const name = 'logs/api/b42.log';
    const log = await store.openLog(name);
    expect(await store.readLog(name)).toEqual({ data: Buffer.alloc(0), nextOffset: 0, complete: false });
    await log.append('step 1: checkout');
    await log.append('step 2: build\n');
    await log.flush();
    const first = await store.readLog(name);
    expect(first.data.toString()).toBe('step 1: checkout\nstep 2: build\n');
    expect(first.complete).toBe(false);
    expect(await store.exists(name)).toBe(false);
    const listed: string[] = [];
    for await (const entry of store.list()) listed.push(entry.name);
    expect(listed, 'an open log is not an object yet').toEqual([]);

    await log.append('step 3: upload');
    await log.flush();
    const second = await store.readLog(name, first.nextOffset);
    expect(second.data.toString()).toBe('step 3: upload\n');

    const info = await log.close();
    const text = 'step 1: checkout\nstep 2: build\nstep 3: upload\n';
    expect(info).toMatchObject({ name, size: text.length, sha256: sha256Hex(text) });
    expect(await store.readLog(name, second.nextOffset)).toEqual({ data: Buffer.alloc(0), nextOffset: text.length, complete: true });
    const capped = await store.readLog(name, 0, 10);
    expect(capped).toEqual({ data: Buffer.from(text.slice(0, 10)), nextOffset: 10, complete: false });
    expect((await collect(await store.get(name))).toString()).toBe(text);
    await expectCode(log.append('late'), 'CONFLICT');
    await expectCode(store.readLog('logs/api/b43.log'), 'NOT_FOUND');
    await expectCode(store.readLog(name, text.length + 1), 'INVALID_INPUT');
    expect(site.leftovers(store.bucket)).toEqual(kind === 'fs' ? ['.fleetcast/meta/logs/api/b42.log.json', name] : [name]);
  });
});

/** Makes the stored bytes disagree with the stored digest, as bit rot or a bad disk would. */
async function damage(site: StoreSite, store: BlobStore, name: string): Promise<void> {
  if (site.kind === 'gcs') {
    site.fake!.corruptNextDownloads(1);
    return;
  }
  if (site.kind === 's3') {
    site.s3!.corruptNextDownloads(1);
    return;
  }
  // The data file keeps its size and mtime (so the sidecar still claims it): change the
  // digest the sidecar records instead, which is the same disagreement seen from the reader.
  const fs = await import('node:fs');
  const path = await import('node:path');
  const sidecar = path.join(site.root, 'buckets', store.bucket, '.fleetcast', 'meta', ...name.split('/')) + '.json';
  const meta = JSON.parse(fs.readFileSync(sidecar, 'utf8')) as { sha256: string };
  meta.sha256 = 'e'.repeat(64);
  fs.writeFileSync(sidecar, JSON.stringify(meta));
}
