// What only the filesystem store promises: its layout, crash safety across processes, temp
// file cleanup, sidecar repair, and a full disk reported as DISK_FULL.
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FsBlobStore } from './fs-blob-store.ts';
import { fsError } from './fs-error.ts';
import { collect, crashWriterMidPut, expectCode, generatedSha256, generatedStream, sha256Hex } from '../test/support/blob-stores.ts';

describe('FsBlobStore', () => {
  let root: string;

  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'fleetcast-fs-store-'));
  });

  afterEach(() => {
    fs.rmSync(root, { recursive: true, force: true });
  });

  const tmpFiles = (bucket: string): string[] => fs.readdirSync(path.join(root, bucket, '.fleetcast', 'tmp'));

  it('keeps each object as a plain file at <root>/<bucket>/<name> with a JSON sidecar', async () => {
    const store = await FsBlobStore.open({ root, bucket: 'fleetcast-main' });
    const data = Buffer.from('#!/bin/sh\necho hello\n');
    await store.put('artifacts/api/b1/bin', Readable.from([data]), { sha256: sha256Hex(data), metadata: { service: 'api' } });
    expect(fs.readFileSync(path.join(root, 'fleetcast-main', 'artifacts', 'api', 'b1', 'bin')).equals(data)).toBe(true);
    const sidecar = JSON.parse(fs.readFileSync(path.join(root, 'fleetcast-main', '.fleetcast', 'meta', 'artifacts', 'api', 'b1', 'bin.json'), 'utf8'));
    expect(sidecar).toMatchObject({ version: 1, size: data.length, sha256: sha256Hex(data), metadata: { service: 'api' } });
    expect(tmpFiles('fleetcast-main')).toEqual([]);
  });

  it('never shows a half-written object after its writer is killed, and removes the dead writer’s temp file on open', async () => {
    const store = await FsBlobStore.open({ root, bucket: 'fleetcast-main' });
    const pid = await crashWriterMidPut({ kind: 'fs', root, bucket: 'fleetcast-main', name: 'artifacts/api/b9/bin' });

    expect(await store.exists('artifacts/api/b9/bin')).toBe(false);
    await expectCode(store.stat('artifacts/api/b9/bin'), 'NOT_FOUND');
    const left = tmpFiles('fleetcast-main');
    expect(left).toHaveLength(1);
    expect(left[0]).toMatch(new RegExp(`^${pid}-`));
    expect(fs.statSync(path.join(root, 'fleetcast-main', '.fleetcast', 'tmp', left[0]!)).size).toBeGreaterThanOrEqual(4 << 20);

    await FsBlobStore.open({ root, bucket: 'fleetcast-main' });
    expect(tmpFiles('fleetcast-main')).toEqual([]);
  });

  it('leaves the temp files of live writers alone at open, but not stale ones', async () => {
    await FsBlobStore.open({ root, bucket: 'fleetcast-main' });
    const tmp = path.join(root, 'fleetcast-main', '.fleetcast', 'tmp');
    const sleeper = spawn('sleep', ['30']);
    try {
      fs.writeFileSync(path.join(tmp, `${sleeper.pid}-live.tmp`), 'partial');
      fs.writeFileSync(path.join(tmp, `${process.pid}-mine.tmp`), 'partial');
      await FsBlobStore.open({ root, bucket: 'fleetcast-main' });
      expect(tmpFiles('fleetcast-main').sort()).toEqual([`${process.pid}-mine.tmp`, `${sleeper.pid}-live.tmp`].sort());

      const old = new Date(Date.now() - 2 * 3_600_000);
      fs.utimesSync(path.join(tmp, `${sleeper.pid}-live.tmp`), old, old);
      await FsBlobStore.open({ root, bucket: 'fleetcast-main', staleTempMs: 3_600_000 });
      expect(tmpFiles('fleetcast-main')).toEqual([`${process.pid}-mine.tmp`]);
    } finally {
      sleeper.kill();
    }
    await new Promise((resolve) => sleeper.once('exit', resolve));
    await FsBlobStore.open({ root, bucket: 'fleetcast-main' });
    expect(tmpFiles('fleetcast-main')).toEqual([`${process.pid}-mine.tmp`]);
  });

  it('re-hashes an object whose sidecar is missing or belongs to another version (crash between renames, file copied in)', async () => {
    const store = await FsBlobStore.open({ root, bucket: 'fleetcast-main' });
    const dir = path.join(root, 'fleetcast-main', 'manual');
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'copied-in'), 'placed by hand');
    expect(await store.stat('manual/copied-in')).toMatchObject({ size: 14, sha256: sha256Hex('placed by hand'), metadata: {} });

    await store.put('manual/replaced', Readable.from([Buffer.from('old')]), { metadata: { v: '1' } });
    // The file changes under the sidecar, as when a crash lands between the two renames.
    fs.writeFileSync(path.join(dir, 'replaced'), 'newer bytes');
    expect(await store.stat('manual/replaced')).toMatchObject({ size: 11, sha256: sha256Hex('newer bytes'), metadata: { v: '1' } });
    expect((await collect(await store.get('manual/replaced'))).toString()).toBe('newer bytes');
  });

  it('copies between buckets of one filesystem as a hard link that outlives changes to the source', async () => {
    const main = await FsBlobStore.open({ root, bucket: 'fleetcast-main' });
    const region = await FsBlobStore.open({ root, bucket: 'fleetcast-eu' });
    const size = 3 << 20;
    const sha256 = await generatedSha256(size, 4);
    await main.put('artifacts/x', generatedStream(size, 4), { sha256, metadata: { service: 'x' } });
    expect(await main.copy('artifacts/x', region)).toMatchObject({ bucket: 'fleetcast-eu', size, sha256, metadata: { service: 'x' } });
    const source = fs.statSync(path.join(root, 'fleetcast-main', 'artifacts', 'x'));
    const copy = fs.statSync(path.join(root, 'fleetcast-eu', 'artifacts', 'x'));
    expect(copy.ino).toBe(source.ino);

    await main.put('artifacts/x', Readable.from([Buffer.from('replaced')]));
    await main.delete('artifacts/x');
    expect(await region.stat('artifacts/x')).toMatchObject({ size, sha256 });
    expect(sha256Hex(await collect(await region.get('artifacts/x')))).toBe(sha256);
    expect(tmpFiles('fleetcast-eu')).toEqual([]);
  });

  it('copies bytes, verified, when links are turned off', async () => {
    const main = await FsBlobStore.open({ root, bucket: 'fleetcast-main', linkCopies: false });
    const region = await FsBlobStore.open({ root, bucket: 'fleetcast-eu' });
    const data = Buffer.alloc(1 << 20, 5);
    await main.put('artifacts/y', Readable.from([data]), { sha256: sha256Hex(data) });
    expect(await main.copy('artifacts/y', region)).toMatchObject({ size: data.length, sha256: sha256Hex(data) });
    expect(fs.statSync(path.join(root, 'fleetcast-eu', 'artifacts', 'y')).ino).not.toBe(fs.statSync(path.join(root, 'fleetcast-main', 'artifacts', 'y')).ino);
  });

  it('refuses names that nest inside another object with CONFLICT', async () => {
    const store = await FsBlobStore.open({ root, bucket: 'fleetcast-main' });
    await store.put('nest/a', Readable.from([Buffer.from('file')]));
    const err = await expectCode(store.put('nest/a/b', Readable.from([Buffer.from('x')])), 'CONFLICT');
    expect(err.message).toMatch(/do not nest/);
    await store.put('nest2/a/b', Readable.from([Buffer.from('x')]));
    await expectCode(store.put('nest2/a', Readable.from([Buffer.from('x')])), 'CONFLICT');
    expect(tmpFiles('fleetcast-main')).toEqual([]);
  });

  it('removes folders a delete leaves empty, and keeps the others', async () => {
    const store = await FsBlobStore.open({ root, bucket: 'fleetcast-main' });
    await store.put('a/b/c/one', Readable.from([Buffer.from('1')]));
    await store.put('a/two', Readable.from([Buffer.from('2')]));
    await store.delete('a/b/c/one');
    expect(fs.existsSync(path.join(root, 'fleetcast-main', 'a', 'b'))).toBe(false);
    expect(fs.existsSync(path.join(root, 'fleetcast-main', 'a', 'two'))).toBe(true);
  });

  it('reports a full disk as DISK_FULL naming the folder and what to do, leaving no temp file', async (ctx) => {
    const mount = path.join(root, 'tiny');
    fs.mkdirSync(mount);
    if (!tryMountTmpfs(mount, '2m')) {
      ctx.skip('needs root to mount a 2 MB tmpfs; the error mapping is covered by the next test');
      return;
    }
    try {
      const store = await FsBlobStore.open({ root: mount, bucket: 'fleetcast-main' });
      const err = await expectCode(store.put('artifacts/big', generatedStream(4 << 20, 2)), 'DISK_FULL');
      expect(err.message).toContain(path.join(mount, 'fleetcast-main'));
      expect(err.message).toMatch(/free space/);
      expect(err.details).toMatchObject({ errno: 'ENOSPC' });
      expect(fs.readdirSync(path.join(mount, 'fleetcast-main', '.fleetcast', 'tmp'))).toEqual([]);
      expect(await store.exists('artifacts/big')).toBe(false);
      // Space came back with the temp file: a small object still fits.
      const small = await store.put('artifacts/small', generatedStream(100_000, 2), { sha256: await generatedSha256(100_000, 2) });
      expect(small.size).toBe(100_000);
    } finally {
      execFileSync('umount', [mount]);
    }
  });

  it('maps filesystem errors to codes with a message that says what to do', () => {
    const enospc = Object.assign(new Error('no space'), { code: 'ENOSPC' });
    expect(fsError(enospc, '/data/buckets/fleetcast-main', 'writing x')).toMatchObject({ code: 'DISK_FULL', details: { path: '/data/buckets/fleetcast-main' } });
    expect(fsError(enospc, '/d', 'writing x').message).toMatch(/no space left on the disk holding \/d while writing x.*free space/);
    expect(fsError(Object.assign(new Error('q'), { code: 'EDQUOT' }), '/d', 'w').code).toBe('DISK_FULL');
    expect(fsError(Object.assign(new Error('e'), { code: 'EACCES' }), '/d', 'w').message).toMatch(/must be writable/);
    expect(fsError(Object.assign(new Error('e'), { code: 'ENOTDIR' }), '/d', 'w').code).toBe('CONFLICT');
  });
});

function tryMountTmpfs(dir: string, size: string): boolean {
  if (process.platform !== 'linux' || process.getuid?.() !== 0) return false;
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
