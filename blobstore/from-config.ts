import path from 'node:path';
import type { SettingValues } from '../config/index.ts';
import type { Logger } from '../logging/index.ts';
import type { BlobStore } from './blob-store.ts';
import { createBlobStore, createFleetBlobStores, type CreateBlobStoreOptions, type FleetBlobStores } from './create-blob-store.ts';
import { mainBucketName, regionBucketName } from './names.ts';

/** The settings that say where blobs live. */
export const blobStoreSettings = [
  'FLEETCAST_DATA_DIR',
  'FLEETCAST_BLOBSTORE',
  'FLEETCAST_BUCKET_PREFIX',
  'FLEETCAST_GCS_ENDPOINT',
  'FLEETCAST_GCS_PROJECT',
  'FLEETCAST_S3_ENDPOINT',
  'FLEETCAST_S3_REGION',
  'FLEETCAST_S3_FORCE_PATH_STYLE',
  'FLEETCAST_S3_PART_SIZE',
] as const;

export type BlobStoreConfig = SettingValues<(typeof blobStoreSettings)[number]>;

function storeOptions(config: BlobStoreConfig, logger?: Logger): Omit<CreateBlobStoreOptions, 'bucket'> {
  return {
    kind: config.FLEETCAST_BLOBSTORE,
    fsRoot: path.join(config.FLEETCAST_DATA_DIR, 'buckets'),
    gcs: {
      ...(config.FLEETCAST_GCS_ENDPOINT ? { apiEndpoint: config.FLEETCAST_GCS_ENDPOINT } : {}),
      ...(config.FLEETCAST_GCS_PROJECT ? { projectId: config.FLEETCAST_GCS_PROJECT } : {}),
    },
    // Credentials come from the SDK's chain (AWS_ACCESS_KEY_ID…, AWS_PROFILE, roles), never from here.
    s3: {
      ...(config.FLEETCAST_S3_ENDPOINT ? { endpoint: config.FLEETCAST_S3_ENDPOINT } : {}),
      ...(config.FLEETCAST_S3_REGION ? { region: config.FLEETCAST_S3_REGION } : {}),
      forcePathStyle: config.FLEETCAST_S3_FORCE_PATH_STYLE,
      partSize: config.FLEETCAST_S3_PART_SIZE,
    },
    ...(logger ? { logger } : {}),
  };
}

/** `<prefix>-main`, where builders upload. */
export function openMainStore(config: BlobStoreConfig, logger?: Logger): Promise<BlobStore> {
  return createBlobStore({ ...storeOptions(config, logger), bucket: mainBucketName(config.FLEETCAST_BUCKET_PREFIX) });
}

/** `<prefix>-<region>`, where seeders (and agents falling back) read a region's copies. */
export function openRegionStore(config: BlobStoreConfig, region: string, logger?: Logger): Promise<BlobStore> {
  return createBlobStore({ ...storeOptions(config, logger), bucket: regionBucketName(region, config.FLEETCAST_BUCKET_PREFIX) });
}

/** The main bucket and one per region. */
export function openFleetStores(config: BlobStoreConfig, regions: readonly string[], logger?: Logger): Promise<FleetBlobStores> {
  return createFleetBlobStores({ ...storeOptions(config, logger), regions, prefix: config.FLEETCAST_BUCKET_PREFIX });
}
