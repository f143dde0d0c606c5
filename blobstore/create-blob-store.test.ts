import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../config/index.ts';
import { FakeGcsServer } from '../test/support/fake-gcs-server.ts';
import { S3TestServer } from '../test/support/s3-test-server.ts';
import { createBlobStore, createFleetBlobStores } from './create-blob-store.ts';
import { FsBlobStore } from './fs-blob-store.ts';
import { blobStoreSettings, openMainStore } from './from-config.ts';
import { GcsBlobStore } from './gcs-blob-store.ts';
import { S3BlobStore } from './s3-blob-store.ts';
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

  it('makes an S3 store from the FLEETCAST_S3_* settings, with credentials from the AWS chain (here the environment)', async () => {
    const s3 = await S3TestServer.start({ dir: path.join(root, 's3') });
    const saved = { id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY };
    try {
      await (await createBlobStore({ kind: 's3', bucket: 'acme-main', s3: { endpoint: s3.url, forcePathStyle: true, credentials: s3.credentials, createBucket: true } })).close();
      process.env.AWS_ACCESS_KEY_ID = s3.credentials.accessKeyId;
      process.env.AWS_SECRET_ACCESS_KEY = s3.credentials.secretAccessKey;
      const env = { FLEETCAST_BLOBSTORE: 's3', FLEETCAST_BUCKET_PREFIX: 'acme', FLEETCAST_S3_ENDPOINT: s3.url, FLEETCAST_S3_FORCE_PATH_STYLE: 'true', FLEETCAST_S3_PART_SIZE: '16M' };
      const store = await openMainStore(loadConfig(blobStoreSettings, { env }));
      expect(store).toBeInstanceOf(S3BlobStore);
      expect(store).toMatchObject({ kind: 's3', bucket: 'acme-main', endpoint: s3.url });
      await store.put('a/b', Readable.from([Buffer.from('x')]));
      expect(s3.objectNames('acme-main')).toEqual(['a/b']);
      await store.close();
      expect(() => loadConfig(blobStoreSettings, { env: { ...env, FLEETCAST_S3_PART_SIZE: '1M' } })).toThrow(/FLEETCAST_S3_PART_SIZE.*5M to 5G/);
    } finally {
      for (const [name, value] of [['AWS_ACCESS_KEY_ID', saved.id], ['AWS_SECRET_ACCESS_KEY', saved.secret]] as const) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
      await s3.close();
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
    expect((await expectCode(createBlobStore({ kind: 'azure' as 'fs', bucket: 'fleetcast-main', fsRoot: root }), 'CONFIG_INVALID')).message).toMatch(
      /FLEETCAST_BLOBSTORE must be fs, gcs or s3/,
    );
    await expectCode(createBlobStore({ kind: 'fs', bucket: '../up', fsRoot: root }), 'INVALID_INPUT');
  });
});
