import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeGcsServer } from '../test/support/fake-gcs-server.ts';
import { createBlobStore, createFleetBlobStores } from './create-blob-store.ts';
import { FsBlobStore } from './fs-blob-store.ts';
import { GcsBlobStore } from './gcs-blob-store.ts';
import { expectCode } from '../test/support/blob-stores.ts';

describe('createBlobStore', () => {
  let root: string;

  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'fleetcast-factory-'));
  });

  afterEach(() => {
    fs.rmSync(root, { recursive: true, force: true });
  });

  it('makes a filesystem store for one bucket, as a folder under fsRoot', async () => {
    const store = await createBlobStore({ kind: 'fs', bucket: 'fleetcast-main', fsRoot: root });
    expect(store).toBeInstanceOf(FsBlobStore);
    expect(store).toMatchObject({ kind: 'fs', bucket: 'fleetcast-main' });
    await store.put('a/b', Readable.from([Buffer.from('x')]));
    expect(fs.readFileSync(path.join(root, 'fleetcast-main', 'a', 'b'), 'utf8')).toBe('x');
  });

  it('makes a GCS store through STORAGE_EMULATOR_HOST or an explicit endpoint, and leaves the variable as it was', async () => {
    const fake = await FakeGcsServer.start();
    const saved = process.env.STORAGE_EMULATOR_HOST;
    try {
      const explicit = await createBlobStore({ kind: 'gcs', bucket: 'fleetcast-main', gcs: { apiEndpoint: fake.url, projectId: 'p', createBucket: true } });
      expect(explicit).toBeInstanceOf(GcsBlobStore);
      expect(process.env.STORAGE_EMULATOR_HOST).toBe(saved);
      process.env.STORAGE_EMULATOR_HOST = fake.url;
      const fromEnv = await createBlobStore({ kind: 'gcs', bucket: 'fleetcast-main' });
      await fromEnv.put('a/b', Readable.from([Buffer.from('x')]));
      expect(await explicit.exists('a/b')).toBe(true);
      expect(fake.objectNames('fleetcast-main')).toEqual(['a/b']);
    } finally {
      if (saved === undefined) delete process.env.STORAGE_EMULATOR_HOST;
      else process.env.STORAGE_EMULATOR_HOST = saved;
      await fake.close();
    }
  });

  it('makes the main and regional stores with DESIGN.md bucket names', async () => {
    const stores = await createFleetBlobStores({ kind: 'fs', fsRoot: root, regions: ['eu', 'us-east'], prefix: 'acme' });
    expect(stores.main.bucket).toBe('acme-main');
    expect(Object.fromEntries(Object.entries(stores.regions).map(([region, store]) => [region, store.bucket]))).toEqual({ eu: 'acme-eu', 'us-east': 'acme-us-east' });
    expect(fs.readdirSync(root).sort()).toEqual(['acme-eu', 'acme-main', 'acme-us-east']);
    expect((await createFleetBlobStores({ kind: 'fs', fsRoot: root, regions: [] })).main.bucket).toBe('fleetcast-main');
  });

  it('refuses a configuration it cannot serve, naming what is missing', async () => {
    expect((await expectCode(createBlobStore({ kind: 'fs', bucket: 'fleetcast-main' }), 'CONFIG_INVALID')).message).toMatch(/fsRoot/);
    expect((await expectCode(createBlobStore({ kind: 's3' as 'fs', bucket: 'fleetcast-main', fsRoot: root }), 'CONFIG_INVALID')).message).toMatch(
      /FLEETCAST_BLOBSTORE must be fs or gcs/,
    );
    await expectCode(createBlobStore({ kind: 'fs', bucket: '../up', fsRoot: root }), 'INVALID_INPUT');
  });
});
