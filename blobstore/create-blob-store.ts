import { FleetcastError } from '../errors/index.ts';
import type { Logger } from '../logging/index.ts';
import type { BlobStore, BlobStoreKind } from './blob-store.ts';
import { FsBlobStore, type FsBlobStoreOptions } from './fs-blob-store.ts';
import type { GcsBlobStoreOptions } from './gcs-blob-store.ts';
import type { S3BlobStoreOptions } from './s3-blob-store.ts';
import { defaultBucketPrefix, mainBucketName, regionBucketName } from './names.ts';

export interface CreateBlobStoreOptions {
  /** `FLEETCAST_BLOBSTORE`. */
  kind: BlobStoreKind;
  /** One store serves one bucket; see mainBucketName / regionBucketName. */
  bucket: string;
  /** For `fs`: the folder holding one folder per bucket, `<FLEETCAST_DATA_DIR>/buckets`. */
  fsRoot?: string;
  /** For `fs`: the options besides root and bucket. */
  fs?: Omit<FsBlobStoreOptions, 'root' | 'bucket' | 'logger'>;
  /** For `gcs`: projectId, apiEndpoint, createBucket, retry… */
  gcs?: Omit<GcsBlobStoreOptions, 'bucket' | 'logger'>;
  /** For `s3`: endpoint, region, forcePathStyle, partSize, createBucket, retry… */
  s3?: Omit<S3BlobStoreOptions, 'bucket' | 'logger'>;
  logger?: Logger;
}

/** The one place that picks an implementation: callers see only BlobStore. */
export async function createBlobStore(options: CreateBlobStoreOptions): Promise<BlobStore> {
  switch (options.kind) {
    case 'fs':
      if (!options.fsRoot) {
        throw new FleetcastError('CONFIG_INVALID', 'the fs blob store needs a folder (fsRoot): normally <FLEETCAST_DATA_DIR>/buckets');
      }
      return FsBlobStore.open({ ...options.fs, root: options.fsRoot, bucket: options.bucket, logger: options.logger });
    case 'gcs':
      // Loaded only when used: the GCS client library costs a filesystem-only process ~20 MB.
      return (await import('./gcs-blob-store.ts')).GcsBlobStore.open({ ...options.gcs, bucket: options.bucket, logger: options.logger });
    case 's3':
      // Loaded only when used, like the GCS client.
      return (await import('./s3-blob-store.ts')).S3BlobStore.open({ ...options.s3, bucket: options.bucket, logger: options.logger });
    default:
      throw new FleetcastError('CONFIG_INVALID', `FLEETCAST_BLOBSTORE must be fs, gcs or s3, got ${JSON.stringify(options.kind)}`);
  }
}

export interface FleetBlobStores {
  /** `<prefix>-main`: builders write here. */
  main: BlobStore;
  /** `<prefix>-<region>` per region: replicators copy here, seeders read. */
  regions: Record<string, BlobStore>;
}

/** The stores of DESIGN.md's buckets: the main one and one per region (FLEETCAST_REGIONS). */
export async function createFleetBlobStores(
  options: Omit<CreateBlobStoreOptions, 'bucket'> & { regions: readonly string[]; /** @defaultValue `fleetcast` */ prefix?: string },
): Promise<FleetBlobStores> {
  const prefix = options.prefix ?? defaultBucketPrefix;
  const main = await createBlobStore({ ...options, bucket: mainBucketName(prefix) });
  const regions: Record<string, BlobStore> = {};
  for (const region of options.regions) regions[region] = await createBlobStore({ ...options, bucket: regionBucketName(region, prefix) });
  return { main, regions };
}
