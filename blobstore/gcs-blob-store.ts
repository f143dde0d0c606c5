import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { IdempotencyStrategy, Storage, type Bucket, type FileMetadata } from '@google-cloud/storage';
import { FleetcastError, isFleetcastError } from '../errors/index.ts';
import { silentLogger, type Logger } from '../logging/index.ts';
import { checkPutOptions, resolveRange, sha256MetadataKey } from './blob-options.ts';
import type { BlobInfo, BlobListing, BlobSource, BlobStore, GetOptions, LogChunk, LogWriter, PutOptions } from './blob-store.ts';
import { crc32cGenerator } from './crc32c.ts';
import { DigestStream } from './digest-stream.ts';
import { digestMismatch } from './digests.ts';
import { gcsError, gcsErrors } from './gcs-errors.ts';
import { withGcsRetry } from './gcs-retry.ts';
import { readLogOptions } from './log-options.ts';
import { validateBucketName } from './names.ts';
import { isValidObjectName, validateListPrefix, validateObjectName } from './object-name.ts';
import { resumingDownload } from './resuming-download.ts';
import { retryPolicy, type RetryOptions, type RetryPolicy } from './retry-policy.ts';
import { trackSource } from './source-tracking.ts';
import { openLogPrefix, openSpilledLog } from './spilled-log.ts';
import { streamCopy } from './stream-copy.ts';
import { VerifyingStream } from './verifying-stream.ts';

export interface GcsBlobStoreOptions {
  bucket: string;
  /** The project of the bucket; needed only to create it. @defaultValue the client's (GOOGLE_CLOUD_PROJECT, credentials) */
  projectId?: string;
  /**
   * The JSON API's address, for an emulator or a fake such as `http://127.0.0.1:4443`.
   * @defaultValue `STORAGE_EMULATOR_HOST`, else Google's
   */
  apiEndpoint?: string;
  /** Create the bucket when it does not exist (local installs, emulators). @defaultValue false */
  createBucket?: boolean;
  /** Backoff for 408, 429, 5xx and broken connections. @defaultValue 8 tries, 250 ms doubling to 16 s */
  retry?: RetryOptions;
  /** Bytes per chunk through the hashing stream. @defaultValue 1 MiB */
  chunkSize?: number;
  /** A download silent this long is dropped and resumed where it stopped. @defaultValue 30 s */
  stallTimeoutMs?: number;
  /** Objects per list request. @defaultValue 1000 (the API's maximum) */
  listPageSize?: number;
  /** Unfinished uploads (crashed writers) older than this are deleted when the store opens. @defaultValue 24 h */
  staleUploadMs?: number;
  /** How often an open log is re-uploaded so readers elsewhere see new lines. @defaultValue 5 s */
  logFlushIntervalMs?: number;
  /** Where open logs are kept locally while written. @defaultValue `os.tmpdir()` */
  logSpillDir?: string;
  logger?: Logger;
}

/**
 * Bookkeeping objects live under names callers cannot use (they start with a dot): uploads
 * before verification, and logs being written.
 */
const uploadPrefix = '.fleetcast-uploads/';

/**
 * A GCS bucket through `@google-cloud/storage`.
 *
 * A put streams to a temporary object with a resumable upload (no chunkSize: one request that
 * the client resumes from the server's offset after a failure), hashing sha256 on the way
 * while the client checks the crc32c GCS computed against its own. Only when size and sha256
 * are right is the object copied server-side to its name with the sha256 in its metadata, then
 * re-read (size, sha256, crc32c) before the put returns. So a wrong or partial upload never
 * appears under the final name, even if the writer dies half-way.
 *
 * Every other request is retried with exponential backoff on 408/429/5xx; downloads resume
 * from the byte they stopped at.
 */
export class GcsBlobStore implements BlobStore {
  readonly kind = 'gcs' as const;
  readonly bucket: string;
  /** Where the JSON API is. Copies between stores of one endpoint are server-side. */
  readonly endpoint: string;
  private readonly api: Bucket;
  private readonly uploads: Bucket;
  private readonly policy: RetryPolicy;
  private readonly chunkSize: number;
  private readonly listPageSize: number;
  private readonly stallTimeoutMs: number;
  private readonly staleUploadMs: number;
  private readonly logFlushIntervalMs: number;
  private readonly logSpillDir: string;
  private readonly logger: Logger;

  private constructor(options: GcsBlobStoreOptions) {
    this.bucket = validateBucketName(options.bucket);
    this.endpoint = options.apiEndpoint ?? process.env.STORAGE_EMULATOR_HOST ?? 'https://storage.googleapis.com';
    this.policy = retryPolicy(options.retry);
    // Two clients: uploads let the library retry and resume (it alone knows the upload's
    // offset); everything else retries here, with our backoff and errors, so no request is
    // retried twice over.
    this.api = createClient(options, this.policy, false).bucket(this.bucket);
    this.uploads = createClient(options, this.policy, true).bucket(this.bucket);
    this.chunkSize = options.chunkSize ?? 1 << 20;
    this.listPageSize = options.listPageSize ?? 1000;
    this.stallTimeoutMs = options.stallTimeoutMs ?? 30_000;
    this.staleUploadMs = options.staleUploadMs ?? 24 * 3_600_000;
    this.logFlushIntervalMs = options.logFlushIntervalMs ?? 5_000;
    this.logSpillDir = options.logSpillDir ?? os.tmpdir();
    this.logger = (options.logger ?? silentLogger()).child({ blobstore: 'gcs', bucket: this.bucket });
  }

  /** Checks the bucket is reachable (creating it if asked) and deletes uploads crashed writers left. */
  static async open(options: GcsBlobStoreOptions): Promise<GcsBlobStore> {
    const store = new GcsBlobStore(options);
    try {
      await store.removeStaleUploads();
    } catch (err) {
      if (!isFleetcastError(err, 'NOT_FOUND') || !options.createBucket) throw err;
      await store.createBucket();
    }
    return store;
  }

  async put(name: string, source: BlobSource, options?: PutOptions): Promise<BlobInfo> {
    validateObjectName(name);
    const expected = checkPutOptions(options);
    const tempName = uploadPrefix + randomUUID();
    const uploaded = await this.upload(tempName, source, name);
    try {
      const actual = { sha256: uploaded.sha256, size: uploaded.sentBytes };
      if ((expected.sha256 !== undefined && expected.sha256 !== actual.sha256) || (expected.size !== undefined && expected.size !== actual.size)) {
        throw digestMismatch(`put ${this.bucket}/${name}`, expected, actual);
      }
      if (uploaded.storedBytes !== actual.size) {
        throw digestMismatch(`put ${this.bucket}/${name}`, { size: actual.size }, { sha256: actual.sha256, size: uploaded.storedBytes }, 'GCS stored a different number of bytes than were sent; try again');
      }
      const copied = await withGcsRetry(
        async () =>
          resourceOf(
            await this.api.file(tempName, { generation: uploaded.generation }).copy(this.api.file(name), {
              contentType: contentTypeOf(name),
              metadata: { ...expected.metadata, [sha256MetadataKey]: actual.sha256 },
            }),
          ),
        this.context('moving the verified upload to', name),
      );
      return await this.verifyStored(name, copied.generation, { size: actual.size, sha256: actual.sha256, crc32c: uploaded.crc32c }, `put ${this.bucket}/${name}`);
    } finally {
      await this.discard(tempName);
    }
  }

  async get(name: string, options: GetOptions = {}): Promise<Readable> {
    return (await this.read(name, options)).stream;
  }

  /** `get` that also says what is being read; copies use it to avoid a second stat. */
  async read(name: string, options: GetOptions = {}): Promise<{ info: BlobInfo; stream: Readable }> {
    validateObjectName(name);
    const metadata = await this.metadataOf(name);
    const info = this.toInfo(metadata);
    const range = resolveRange(options.range, info.size, `${this.bucket}/${name}`);
    const raw = this.download(name, metadata.generation, range?.start ?? 0, range?.end ?? info.size - 1);
    if (range || options.verify === false) return { info, stream: raw };
    const verifier = new VerifyingStream({ sha256: info.sha256, size: info.size, what: `read of ${this.bucket}/${name}` }, { highWaterMark: this.chunkSize });
    pipeline(raw, verifier).catch(() => undefined);
    return { info, stream: verifier };
  }

  async stat(name: string): Promise<BlobInfo> {
    validateObjectName(name);
    return this.toInfo(await this.metadataOf(name));
  }

  async exists(name: string): Promise<boolean> {
    validateObjectName(name);
    try {
      await this.metadataOf(name);
      return true;
    } catch (err) {
      if (isFleetcastError(err, 'NOT_FOUND')) return false;
      throw err;
    }
  }

  async copy(name: string, target: BlobStore, targetName: string = name): Promise<BlobInfo> {
    validateObjectName(name);
    validateObjectName(targetName);
    if (!(target instanceof GcsBlobStore) || target.endpoint !== this.endpoint) {
      return streamCopy(await this.read(name, { verify: false }), target, targetName);
    }
    // Server-side: GCS copies the bytes (and the metadata, sha256 included); we check that
    // what landed has the source's size, sha256 and crc32c.
    const source = await this.metadataOf(name);
    const info = this.toInfo(source);
    const copied = await withGcsRetry(
      async () => resourceOf(await this.api.file(name, { generation: source.generation }).copy(target.api.file(targetName))),
      this.context(`copying to ${target.bucket}/${targetName}`, name),
    );
    return target.verifyStored(
      targetName,
      copied.generation,
      { size: info.size, sha256: info.sha256, crc32c: String(source.crc32c) },
      `copy of ${this.bucket}/${name} to ${target.bucket}/${targetName}`,
    );
  }

  async delete(name: string): Promise<boolean> {
    validateObjectName(name);
    return this.deleteObject(name);
  }

  async *list(prefix = ''): AsyncGenerator<BlobListing> {
    validateListPrefix(prefix);
    let pageToken: string | undefined;
    do {
      const [files, next] = await withGcsRetry(
        () => this.api.getFiles({ prefix, autoPaginate: false, maxResults: this.listPageSize, pageToken }),
        this.context('listing', prefix || undefined),
      );
      for (const file of files) {
        // Our bookkeeping objects start with a dot, which no object name can; objects put in
        // the bucket by other means under names we refuse are skipped too.
        if (isValidObjectName(file.name)) yield { name: file.name, size: Number(file.metadata.size) };
      }
      pageToken = (next as { pageToken?: string } | null)?.pageToken;
    } while (pageToken);
  }

  /** A log spilled to a local file and published whole every interval (spilled-log.ts). */
  async openLog(name: string): Promise<LogWriter> {
    validateObjectName(name);
    return openSpilledLog(name, {
      spillDir: this.logSpillDir,
      flushIntervalMs: this.logFlushIntervalMs,
      chunkSize: this.chunkSize,
      logger: this.logger,
      uploadOpen: (openName, spill, bytes) => this.uploadOpenLog(openName, spill, bytes),
      put: (object, source) => this.put(object, source),
      deleteObject: (object) => this.deleteObject(object),
    });
  }

  async readLog(name: string, fromOffset = 0, maxBytes?: number): Promise<LogChunk> {
    validateObjectName(name);
    const limit = readLogOptions(name, fromOffset, maxBytes);
    // The open copy is deleted only after the closed log exists: looking in this order
    // never misses a log that is closing.
    for (const [objectName, complete] of [
      [openLogPrefix + name, false],
      [name, true],
    ] as const) {
      let metadata: FileMetadata;
      try {
        metadata = await this.metadataOf(objectName);
      } catch (err) {
        if (isFleetcastError(err, 'NOT_FOUND')) continue;
        throw err;
      }
      const size = Number(metadata.size);
      if (fromOffset > size) {
        throw new FleetcastError('INVALID_INPUT', `log ${name} has ${size} bytes; cannot read from offset ${fromOffset}`, { fromOffset, size });
      }
      const end = Math.min(size, fromOffset + limit) - 1;
      const parts: Buffer[] = [];
      for await (const chunk of this.download(objectName, metadata.generation, fromOffset, end)) parts.push(chunk as Buffer);
      const data = Buffer.concat(parts);
      const nextOffset = fromOffset + data.length;
      return { data, nextOffset, complete: complete && nextOffset >= size };
    }
    throw new FleetcastError('NOT_FOUND', `no log ${this.bucket}/${name}: the build has not started writing it, or it was deleted`, {
      bucket: this.bucket,
      name,
    });
  }

  async close(): Promise<void> {
    // The client holds no connections that need closing; open logs own their timers.
  }

  // ---- internals

  /** Streams `source` to the temporary object `tempName`; the client checks crc32c end to end. */
  private async upload(
    tempName: string,
    source: BlobSource,
    name: string,
  ): Promise<{ generation: string; storedBytes: number; crc32c: string; sha256: string; sentBytes: number }> {
    const file = this.uploads.file(tempName);
    const digest = new DigestStream({ highWaterMark: this.chunkSize });
    const input = trackSource(source);
    try {
      await pipeline(
        input.iterable,
        digest,
        file.createWriteStream({ resumable: true, validation: 'crc32c', contentType: 'application/octet-stream', preconditionOpts: { ifGenerationMatch: 0 } }),
      );
    } catch (err) {
      await this.discard(tempName);
      const failure = input.failure();
      if (failure) throw failure.error;
      const code = (err as { code?: unknown }).code;
      if (code === 'FILE_NO_UPLOAD' || code === 'FILE_NO_UPLOAD_DELETE') {
        throw new FleetcastError('DIGEST_MISMATCH', `put ${this.bucket}/${name}: GCS stored bytes whose crc32c differs from what was sent (damaged in transit); nothing was kept: try again`, {
          bucket: this.bucket,
          name,
        });
      }
      // The client retried and resumed the upload itself before giving up.
      throw gcsError(err, 'uploading', { bucket: this.bucket, name });
    }
    const metadata = file.metadata;
    return {
      generation: String(metadata.generation),
      storedBytes: Number(metadata.size),
      crc32c: String(metadata.crc32c),
      sha256: digest.sha256,
      sentBytes: digest.size,
    };
  }

  /**
   * Re-reads what was written under `name` (that generation): size, sha256 metadata and the
   * crc32c GCS computed must be those expected, or the object is deleted and the write fails.
   */
  private async verifyStored(
    name: string,
    generation: string | number | undefined,
    expected: { size: number; sha256: string; crc32c: string },
    what: string,
  ): Promise<BlobInfo> {
    let metadata: FileMetadata;
    try {
      metadata = await this.metadataOf(name, generation);
    } catch (err) {
      if (!isFleetcastError(err, 'NOT_FOUND')) throw err;
      throw new FleetcastError('CONFLICT', `${what}: the object was replaced or deleted by another writer while it was being verified; try again`, {
        bucket: this.bucket,
        name,
      });
    }
    const sha256 = metadata.metadata?.[sha256MetadataKey];
    if (Number(metadata.size) !== expected.size || sha256 !== expected.sha256 || metadata.crc32c !== expected.crc32c) {
      await withGcsRetry(() => this.api.file(name, { generation: metadata.generation }).delete(), this.context('deleting a bad copy of', name)).catch(
        (err: unknown) => this.logger.error({ object: name, err: (err as Error).message }, 'could not delete an object that failed verification'),
      );
      throw digestMismatch(
        what,
        { sha256: expected.sha256, size: expected.size },
        { sha256: String(sha256), size: Number(metadata.size) },
        `what GCS holds is not what was written (crc32c ${metadata.crc32c}, expected ${expected.crc32c}); it was deleted: try again`,
      );
    }
    return this.toInfo(metadata);
  }

  private download(name: string, generation: string | number | undefined, start: number, end: number): Readable {
    const file = this.api.file(name, { generation });
    return resumingDownload({
      // Our sha256 check replaces the client's crc32c check, which ranges cannot have anyway.
      open: async (from, to, signal) => {
        const stream = file.createReadStream({ start: from, end: to, validation: false, decompress: false });
        signal.addEventListener('abort', () => stream.destroy(), { once: true });
        return stream;
      },
      start,
      end,
      policy: this.policy,
      stallTimeoutMs: this.stallTimeoutMs,
      logger: this.logger,
      where: { bucket: this.bucket, name },
      highWaterMark: this.chunkSize,
      store: gcsErrors,
    });
  }

  private async metadataOf(name: string, generation?: string | number): Promise<FileMetadata> {
    const [metadata] = await withGcsRetry(
      () => this.api.file(name, generation === undefined ? undefined : { generation }).getMetadata(),
      this.context('reading metadata of', name),
    );
    return metadata;
  }

  private async deleteObject(name: string): Promise<boolean> {
    try {
      await withGcsRetry(() => this.api.file(name).delete(), this.context('deleting', name));
      return true;
    } catch (err) {
      if (isFleetcastError(err, 'NOT_FOUND')) return false;
      throw err;
    }
  }

  /** Deletes a temporary upload; a leftover is harmless (removed at the next open), so only log. */
  private async discard(tempName: string): Promise<void> {
    await this.deleteObject(tempName).catch((err: unknown) =>
      this.logger.warn({ object: tempName, err: (err as Error).message }, 'could not delete a temporary upload; it will be removed later'),
    );
  }

  private async uploadOpenLog(openName: string, spill: string, bytes: number): Promise<void> {
    await withGcsRetry(
      () =>
        pipeline(
          bytes === 0 ? Readable.from([]) : fs.createReadStream(spill, { start: 0, end: bytes - 1 }),
          this.api.file(openName).createWriteStream({ resumable: bytes > 8 << 20, validation: 'crc32c', contentType: 'text/plain; charset=utf-8' }),
        ),
      this.context('publishing open log', openName),
    );
  }

  private async removeStaleUploads(): Promise<void> {
    let pageToken: string | undefined;
    let removed = 0;
    do {
      const [files, next] = await withGcsRetry(
        () => this.api.getFiles({ prefix: uploadPrefix, autoPaginate: false, maxResults: 1000, pageToken }),
        this.context('listing unfinished uploads in'),
      );
      for (const file of files) {
        const created = Date.parse(String(file.metadata.timeCreated ?? ''));
        if (Number.isFinite(created) && Date.now() - created > this.staleUploadMs) {
          await this.discard(file.name);
          removed += 1;
        }
      }
      pageToken = (next as { pageToken?: string } | null)?.pageToken;
    } while (pageToken);
    if (removed > 0) this.logger.info({ removed }, 'removed unfinished uploads of crashed writers');
  }

  private async createBucket(): Promise<void> {
    await withGcsRetry(
      () =>
        this.api.storage.createBucket(this.bucket).catch((err: unknown) => {
          if ((err as { code?: unknown }).code !== 409) throw err; // created meanwhile by another process
        }),
      this.context('creating'),
    );
    this.logger.info('bucket created');
  }

  private toInfo(metadata: FileMetadata): BlobInfo {
    const name = String(metadata.name);
    const custom: Record<string, string> = {};
    for (const [key, value] of Object.entries(metadata.metadata ?? {})) {
      if (value !== null && value !== undefined) custom[key] = String(value);
    }
    const sha256 = custom[sha256MetadataKey];
    if (!sha256 || !/^[0-9a-f]{64}$/.test(sha256)) {
      throw new FleetcastError(
        'INTERNAL',
        `object ${this.bucket}/${name} has no sha256 metadata: it was not written through fleetcast; upload it again with fleetcast`,
        { bucket: this.bucket, name },
      );
    }
    delete custom[sha256MetadataKey];
    return {
      bucket: this.bucket,
      name,
      size: Number(metadata.size),
      sha256,
      metadata: custom,
      updated: new Date(String(metadata.updated ?? metadata.timeCreated)),
    };
  }

  private context(doing: string, name?: string): { policy: RetryPolicy; logger: Logger; doing: string; bucket: string; name?: string } {
    return { policy: this.policy, logger: this.logger, doing, bucket: this.bucket, name };
  }
}

/**
 * The client sends every request to an emulator only when STORAGE_EMULATOR_HOST is set while
 * it is constructed (with `apiEndpoint` alone some requests, copies among them, still go to
 * Google: NOTES.md). It reads the variable once, in its constructor, so an explicit
 * `apiEndpoint` is passed that way for the constructor's duration and the variable restored.
 */
function createClient(options: GcsBlobStoreOptions, policy: RetryPolicy, autoRetry: boolean): Storage {
  const saved = process.env.STORAGE_EMULATOR_HOST;
  if (options.apiEndpoint) process.env.STORAGE_EMULATOR_HOST = options.apiEndpoint;
  try {
    return new Storage({
      projectId: options.projectId,
      crc32cGenerator,
      retryOptions: autoRetry
        ? {
            autoRetry: true,
            maxRetries: policy.maxAttempts - 1,
            retryDelayMultiplier: 2,
            maxRetryDelay: Math.max(1, policy.maxDelayMs / 1000),
            totalTimeout: 600,
            // Uploads go to fresh temporary names, so repeating one is always safe.
            idempotencyStrategy: IdempotencyStrategy.RetryAlways,
          }
        : { autoRetry: false },
    });
  } finally {
    if (saved === undefined) delete process.env.STORAGE_EMULATOR_HOST;
    else process.env.STORAGE_EMULATOR_HOST = saved;
  }
}

/** The object a copy produced: `file.copy` answers with a rewrite response (or, for copyTo, the object). */
function resourceOf(response: [unknown, unknown]): FileMetadata {
  const body = response[1] as { resource?: FileMetadata } & FileMetadata;
  return body.resource ?? body;
}

function contentTypeOf(name: string): string {
  return name.endsWith('.log') ? 'text/plain; charset=utf-8' : 'application/octet-stream';
}
