export type {
  BlobInfo,
  BlobListing,
  BlobSource,
  BlobStore,
  BlobStoreKind,
  ByteRange,
  GetOptions,
  LogChunk,
  LogWriter,
  PutOptions,
} from './blob-store.ts';
export { createBlobStore, createFleetBlobStores, type CreateBlobStoreOptions, type FleetBlobStores } from './create-blob-store.ts';
export { FsBlobStore, type FsBlobStoreOptions } from './fs-blob-store.ts';
// GcsBlobStore itself is loaded on demand by createBlobStore; import gcs-blob-store.ts for the class.
export type { GcsBlobStoreOptions } from './gcs-blob-store.ts';
// Likewise S3BlobStore: import s3-blob-store.ts for the class.
export type { S3BlobStoreOptions } from './s3-blob-store.ts';
export type { RetryOptions } from './retry-policy.ts';
export {
  artifactObjectName,
  parseArtifactObjectName,
  defaultBucketPrefix,
  logObjectName,
  mainBucketName,
  regionBucketName,
  validateBucketName,
} from './names.ts';
export { validateObjectName } from './object-name.ts';
export { digestMismatch } from './digests.ts';
export { errnoCode, fsError } from './fs-error.ts';
