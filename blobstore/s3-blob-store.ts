import { createHash, randomUUID } from 'node:crypto';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  AbortMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  type HeadObjectCommandOutput,
} from '@aws-sdk/client-s3';
import { FleetcastError, isFleetcastError } from '../errors/index.ts';
import { silentLogger, type Logger } from '../logging/index.ts';
import { checkPutOptions, resolveRange, sha256MetadataKey } from './blob-options.ts';
import type { BlobInfo, BlobListing, BlobSource, BlobStore, GetOptions, LogChunk, LogWriter, PutOptions } from './blob-store.ts';
import { digestMismatch } from './digests.ts';
import { readLogOptions } from './log-options.ts';
import { validateBucketName } from './names.ts';
import { isValidObjectName, validateListPrefix, validateObjectName } from './object-name.ts';
import { resumingDownload } from './resuming-download.ts';
import { retryPolicy, type RetryOptions, type RetryPolicy } from './retry-policy.ts';
import { s3ErrorName, s3Errors, s3Status } from './s3-errors.ts';
import { S3MultipartUpload, unquote, type CompletedUpload } from './s3-multipart-upload.ts';
import { copyRanges, maxParts, maxSingleCopyBytes, minPartSize, PartPool, partsOf } from './s3-parts.ts';
import { withS3Retry, type S3RetryContext } from './s3-retry.ts';
import { openLogPrefix, openSpilledLog } from './spilled-log.ts';
import { trackSource } from './source-tracking.ts';
import { streamCopy } from './stream-copy.ts';
import { VerifyingStream } from './verifying-stream.ts';

export interface S3BlobStoreOptions {
  bucket: string;
  /**
   * The S3 API's address for S3-compatible servers: MinIO, Ceph RGW, R2
   * (`https://<account>.r2.cloudflarestorage.com`), a local test server.
   * @defaultValue AWS's endpoint for `region`
   */
  endpoint?: string;
  /** @defaultValue the SDK's (AWS_REGION, the profile's region); `us-east-1` with an explicit endpoint */
  region?: string;
  /** Address buckets as `<endpoint>/<bucket>/` instead of `<bucket>.<endpoint>/` (MinIO, Ceph and most local servers need it). @defaultValue false */
  forcePathStyle?: boolean;
  /** Explicit keys (tests). @defaultValue the SDK's credential chain: environment, profile, web identity, container or instance role */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** Create the bucket when it does not exist (local installs, test servers). @defaultValue false */
  createBucket?: boolean;
  /** Backoff for 408, 429, 5xx, throttling and broken connections. @defaultValue 8 tries, 250 ms doubling to 16 s */
  retry?: RetryOptions;
  /** Bytes of one part of a multipart upload (parts double every 2,000). At least 5 MiB. @defaultValue 8 MiB */
  partSize?: number;
  /** Parts uploaded (or copied) at once; memory of a put is about (queueSize + 1) × partSize. @defaultValue 4 */
  queueSize?: number;
  /** Objects up to this size are copied by one CopyObject, larger ones part by part (UploadPartCopy). @defaultValue 5 GiB, S3's limit */
  maxSingleCopyBytes?: number;
  /** Bytes per UploadPartCopy request of a large copy. @defaultValue 512 MiB */
  copyPartSize?: number;
  /** Bytes per chunk through the hashing stream. @defaultValue 1 MiB */
  chunkSize?: number;
  /** A download silent this long is dropped and resumed where it stopped; also each request's socket timeout. @defaultValue 30 s */
  stallTimeoutMs?: number;
  /** Objects per list request. @defaultValue 1000 (the API's maximum) */
  listPageSize?: number;
  /** Unfinished uploads (crashed writers) older than this are removed when the store opens. @defaultValue 24 h */
  staleUploadMs?: number;
  /** How often an open log is re-uploaded so readers elsewhere see new lines. @defaultValue 5 s */
  logFlushIntervalMs?: number;
  /** Where open logs are kept locally while written. @defaultValue `os.tmpdir()` */
  logSpillDir?: string;
  logger?: Logger;
}

/** Socket timeout of server-side copies (one CopyObject of up to 5 GiB, or one 512 MiB part). */
const copyTimeoutMs = 15 * 60_000;

/** Bookkeeping objects live under names callers cannot use (they start with a dot). */
const uploadPrefix = '.fleetcast-uploads/';

/**
 * An S3 (or S3-compatible) bucket through `@aws-sdk/client-s3`.
 *
 * A put never shows a partial or wrong object under its name:
 * - an object smaller than one part is read into memory, hashed, and sent in one PutObject
 *   with its sha256 in the metadata and its Content-MD5 (S3 refuses bytes damaged on the way);
 *   a wrong sha256 or size is refused before anything is sent;
 * - a larger one with a known sha256 (builders always know it) goes up as a multipart upload
 *   straight to its name, hashed on the way: it appears only at CompleteMultipartUpload, which is
 *   sent only when size and sha256 are right, otherwise the upload is aborted;
 * - a larger one without a known sha256 (a long log) goes to a temporary object, then is copied
 *   server-side to its name with the sha256 it turned out to have.
 * Each put ends by reading back what S3 holds (size, sha256 metadata, ETag).
 *
 * Every request is retried here with exponential backoff (the SDK's retries are off); parts are
 * kept in memory until S3 has them, so they can be sent again; downloads resume from the byte
 * they stopped at. Copies between buckets of one endpoint are server-side (CopyObject, or
 * UploadPartCopy above 5 GiB).
 */
export class S3BlobStore implements BlobStore {
  readonly kind = 's3' as const;
  readonly bucket: string;
  /** Which S3 this is: copies between stores of one endpoint are server-side. */
  readonly endpoint: string;
  /** @internal the SDK client. */
  readonly client: S3Client;
  /**
   * @internal the client for server-side copies into this bucket: a copy of gigabytes can keep
   * its connection silent for minutes on servers that send nothing until done (AWS sends
   * spaces), so its socket timeout is long, not the stall timeout.
   */
  readonly copyClient: S3Client;
  private readonly policy: RetryPolicy;
  private readonly partSize: number;
  private readonly queueSize: number;
  private readonly maxSingleCopyBytes: number;
  private readonly copyPartSize: number;
  private readonly chunkSize: number;
  private readonly listPageSize: number;
  private readonly stallTimeoutMs: number;
  private readonly staleUploadMs: number;
  private readonly logFlushIntervalMs: number;
  private readonly logSpillDir: string;
  private readonly logger: Logger;

  private constructor(private readonly options: S3BlobStoreOptions) {
    this.bucket = validateBucketName(options.bucket);
    this.endpoint = options.endpoint ?? 'aws';
    this.policy = retryPolicy(options.retry);
    this.partSize = Math.max(minPartSize, options.partSize ?? 8 << 20);
    this.queueSize = Math.max(1, options.queueSize ?? 4);
    this.maxSingleCopyBytes = Math.min(maxSingleCopyBytes, options.maxSingleCopyBytes ?? maxSingleCopyBytes);
    this.copyPartSize = Math.max(minPartSize, options.copyPartSize ?? 512 << 20);
    this.chunkSize = options.chunkSize ?? 1 << 20;
    this.listPageSize = options.listPageSize ?? 1000;
    this.stallTimeoutMs = options.stallTimeoutMs ?? 30_000;
    this.staleUploadMs = options.staleUploadMs ?? 24 * 3_600_000;
    this.logFlushIntervalMs = options.logFlushIntervalMs ?? 5_000;
    this.logSpillDir = options.logSpillDir ?? os.tmpdir();
    this.logger = (options.logger ?? silentLogger()).child({ blobstore: 's3', bucket: this.bucket });
    this.client = this.createClient(this.stallTimeoutMs);
    this.copyClient = this.createClient(copyTimeoutMs);
  }

  private createClient(socketTimeoutMs: number): S3Client {
    const { options } = this;
    const client = new S3Client({
      ...(options.endpoint ? { endpoint: options.endpoint } : {}),
      region: options.region ?? (options.endpoint ? 'us-east-1' : undefined),
      forcePathStyle: options.forcePathStyle ?? false,
      ...(options.credentials ? { credentials: options.credentials } : {}),
      // Retries are ours (withS3Retry): with the SDK's too, one request could be tried 8 × 3 times.
      maxAttempts: 1,
      // Integrity is ours: Content-MD5 on every write, sha256 of the whole object. The SDK's
      // default (a CRC32 trailer in aws-chunked encoding on streamed bodies) is stored verbatim
      // inside the object by S3-compatible servers that do not know it.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      requestHandler: { connectionTimeout: 10_000, requestTimeout: socketTimeoutMs },
    });
    // Writes carry their Content-MD5 (S3 checks it) and are hashed for the sha256 anyway: the
    // SDK's third pass over every byte, a sha256 of the body for the signature, buys nothing.
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const request = args.request as { headers?: Record<string, string> };
        if (request.headers && (context.commandName === 'UploadPartCommand' || context.commandName === 'PutObjectCommand')) request.headers['x-amz-content-sha256'] = 'UNSIGNED-PAYLOAD';
        return next(args);
      },
      { step: 'build', name: 'fleetcastUnsignedPayload' },
    );
    return client;
  }

  /** Checks the bucket is reachable (creating it if asked) and removes uploads crashed writers left. */
  static async open(options: S3BlobStoreOptions): Promise<S3BlobStore> {
    const store = new S3BlobStore(options);
    try {
      await store.checkBucket();
      await store.removeStaleUploads();
    } catch (err) {
      await store.close();
      throw err;
    }
    return store;
  }

  async put(name: string, source: BlobSource, options?: PutOptions): Promise<BlobInfo> {
    validateObjectName(name);
    const expected = checkPutOptions(options);
    const input = trackSource(source);
    const pool = new PartPool();
    const parts = partsOf(input.iterable, this.partSize, pool)[Symbol.asyncIterator]();
    try {
      const first = await parts.next();
      const body = first.done ? Buffer.alloc(0) : first.value;
      if (body.length < this.partSize) return await this.putSmall(name, body, expected);
      return await this.putMultipart(name, body, parts, pool, expected);
    } catch (err) {
      const failure = input.failure();
      if (failure) throw failure.error;
      throw err;
    } finally {
      await parts.return?.(undefined);
    }
  }

  async get(name: string, options: GetOptions = {}): Promise<Readable> {
    return (await this.read(name, options)).stream;
  }

  /** `get` that also says what is being read; copies use it to avoid a second stat. */
  async read(name: string, options: GetOptions = {}): Promise<{ info: BlobInfo; stream: Readable }> {
    validateObjectName(name);
    const head = await this.head(name);
    const info = this.toInfo(name, head);
    const range = resolveRange(options.range, info.size, `${this.bucket}/${name}`);
    const raw = this.download(name, head.ETag, range?.start ?? 0, range?.end ?? info.size - 1);
    if (range || options.verify === false) return { info, stream: raw };
    const verifier = new VerifyingStream({ sha256: info.sha256, size: info.size, what: `read of ${this.bucket}/${name}` }, { highWaterMark: this.chunkSize });
    pipeline(raw, verifier).catch(() => undefined);
    return { info, stream: verifier };
  }

  async stat(name: string): Promise<BlobInfo> {
    validateObjectName(name);
    return this.toInfo(name, await this.head(name));
  }

  async exists(name: string): Promise<boolean> {
    validateObjectName(name);
    return this.headIfAny(name).then((head) => head !== undefined);
  }

  async copy(name: string, target: BlobStore, targetName: string = name): Promise<BlobInfo> {
    validateObjectName(name);
    validateObjectName(targetName);
    if (!(target instanceof S3BlobStore) || target.endpoint !== this.endpoint) {
      return streamCopy(await this.read(name, { verify: false }), target, targetName);
    }
    // Server-side: S3 copies the bytes and the metadata (sha256 included); the target then
    // checks that what landed has the source's size, sha256 and (where comparable) ETag.
    const head = await this.head(name);
    const info = this.toInfo(name, head);
    const etag = head.ETag ?? '';
    const copiedEtag = await this.copyServerSide({ key: name, etag, size: info.size }, target, targetName, { metadataDirective: 'COPY', metadata: head.Metadata ?? {}, contentType: head.ContentType });
    return target.verifyStored(
      targetName,
      { size: info.size, sha256: info.sha256, etag: copiedEtag.comparable ? unquote(etag) : undefined },
      `copy of ${this.bucket}/${name} to ${target.bucket}/${targetName}`,
    );
  }

  async delete(name: string): Promise<boolean> {
    validateObjectName(name);
    // S3 answers a delete of an absent object with success too: ask first.
    if (!(await this.headIfAny(name))) return false;
    await this.deleteObject(name);
    return true;
  }

  async *list(prefix = ''): AsyncGenerator<BlobListing> {
    validateListPrefix(prefix);
    for await (const object of this.listObjects(prefix)) {
      // Our bookkeeping objects start with a dot, which no object name can; objects put in
      // the bucket by other means under names we refuse are skipped too.
      if (isValidObjectName(object.key)) yield { name: object.key, size: object.size };
    }
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
      const head = await this.headIfAny(objectName);
      if (!head) continue;
      const size = head.ContentLength ?? 0;
      if (fromOffset > size) {
        throw new FleetcastError('INVALID_INPUT', `log ${name} has ${size} bytes; cannot read from offset ${fromOffset}`, { fromOffset, size });
      }
      const end = Math.min(size, fromOffset + limit) - 1;
      const parts: Buffer[] = [];
      for await (const chunk of this.download(objectName, head.ETag, fromOffset, end)) parts.push(chunk as Buffer);
      const data = Buffer.concat(parts);
      const nextOffset = fromOffset + data.length;
      return { data, nextOffset, complete: complete && nextOffset >= size };
    }
    throw new FleetcastError('NOT_FOUND', `no log ${this.bucket}/${name}: the build has not started writing it, or it was deleted`, { bucket: this.bucket, name });
  }

  async close(): Promise<void> {
    this.client.destroy();
    this.copyClient.destroy();
  }

  // ---- internals

  /** One PutObject of bytes already in memory: digest and size are checked before sending. */
  private async putSmall(name: string, body: Buffer, expected: ReturnType<typeof checkPutOptions>): Promise<BlobInfo> {
    const actual = { sha256: createHash('sha256').update(body).digest('hex'), size: body.length };
    if ((expected.sha256 !== undefined && expected.sha256 !== actual.sha256) || (expected.size !== undefined && expected.size !== actual.size)) {
      throw digestMismatch(`put ${this.bucket}/${name}`, expected, actual);
    }
    const md5 = createHash('md5').update(body).digest();
    let etagIsMd5 = true;
    const sent = await withS3Retry(async () => {
      const response = await this.client.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: name,
          Body: body,
          ContentLength: body.length,
          ContentMD5: md5.toString('base64'),
          ContentType: contentTypeOf(name),
          Metadata: { ...expected.metadata, [sha256MetadataKey]: actual.sha256 },
        }),
      );
      etagIsMd5 = !response.ServerSideEncryption?.startsWith('aws:kms') && !response.SSECustomerAlgorithm;
      if (etagIsMd5 && unquote(response.ETag ?? '') !== md5.toString('hex')) {
        throw Object.assign(new Error(`S3 answered ETag ${response.ETag} for bytes whose MD5 is ${md5.toString('hex')}`), { name: 'BadDigest', Code: 'BadDigest' });
      }
      return response;
    }, this.context('uploading', name));
    return this.verifyStored(name, { ...actual, etag: etagIsMd5 ? unquote(sent.ETag ?? '') : undefined }, `put ${this.bucket}/${name}`);
  }

  /**
   * A multipart upload of `first` and the rest of `parts`, hashed on the way. With a known
   * sha256 it goes to `name` itself and is completed only if the digest is right; otherwise to
   * a temporary object, copied to `name` with its digest once known.
   */
  private async putMultipart(name: string, first: Buffer, parts: AsyncIterator<Buffer>, pool: PartPool, expected: ReturnType<typeof checkPutOptions>): Promise<BlobInfo> {
    const direct = expected.sha256 !== undefined;
    const key = direct ? name : uploadPrefix + randomUUID();
    const upload = await S3MultipartUpload.create(
      { client: this.client, slowClient: this.copyClient, bucket: this.bucket, key, policy: this.policy, logger: this.logger },
      {
        metadata: direct ? { ...expected.metadata, [sha256MetadataKey]: expected.sha256! } : {},
        contentType: direct ? contentTypeOf(name) : 'application/octet-stream',
        concurrency: this.queueSize,
      },
    );
    const hash = createHash('sha256');
    let size = 0;
    let actual: { sha256: string; size: number };
    let completed: CompletedUpload;
    try {
      let part: Buffer | undefined = first;
      for (let number = 1; part !== undefined; number++) {
        if (number > maxParts) {
          throw new FleetcastError('INVALID_INPUT', `put ${this.bucket}/${name}: more than ${maxParts} parts (S3's limit); raise FLEETCAST_S3_PART_SIZE`, { partSize: this.partSize });
        }
        hash.update(part);
        size += part.length;
        const sending = part;
        await upload.addPart(number, sending, () => pool.give(sending));
        const next: IteratorResult<Buffer> = await parts.next();
        part = next.done ? undefined : next.value;
      }
      actual = { sha256: hash.digest('hex'), size };
      if ((expected.sha256 !== undefined && expected.sha256 !== actual.sha256) || (expected.size !== undefined && expected.size !== actual.size)) {
        throw digestMismatch(`put ${this.bucket}/${name}`, expected, actual);
      }
      completed = await upload.complete();
    } catch (err) {
      await upload.abort();
      throw err;
    }
    if (direct) {
      return this.verifyStored(name, { ...actual, etag: completed.expectedEtag, ifMatch: completed.etag }, `put ${this.bucket}/${name}`);
    }
    // The digest is known only now: check the temporary object, then copy it into place with it.
    return this.moveIntoPlace(key, name, { size, etag: completed.etag, expectedEtag: completed.expectedEtag }, expected.metadata, actual.sha256);
  }

  private async moveIntoPlace(
    tempKey: string,
    name: string,
    uploaded: { size: number; etag: string; expectedEtag: string | undefined },
    metadata: Record<string, string>,
    sha256: string,
  ): Promise<BlobInfo> {
    try {
      await this.verifyObject(tempKey, { size: uploaded.size, etag: uploaded.expectedEtag }, `put ${this.bucket}/${name}`);
      await this.copyServerSide({ key: tempKey, etag: uploaded.etag, size: uploaded.size }, this, name, {
        metadataDirective: 'REPLACE',
        metadata: { ...metadata, [sha256MetadataKey]: sha256 },
        contentType: contentTypeOf(name),
      });
      return await this.verifyStored(name, { size: uploaded.size, sha256 }, `put ${this.bucket}/${name}`);
    } finally {
      await this.deleteObject(tempKey).catch((err: unknown) =>
        this.logger.warn({ object: tempKey, err: (err as Error).message }, 'could not delete a temporary upload; it will be removed later'),
      );
    }
  }

  /**
   * CopyObject up to `maxSingleCopyBytes`, a multipart copy (UploadPartCopy) above. Returns
   * whether the copy's ETag can be compared with the source's (one CopyObject of a
   * single-part object keeps its MD5 ETag).
   */
  private async copyServerSide(
    source: { key: string; etag: string; size: number },
    target: S3BlobStore,
    targetName: string,
    options: { metadataDirective: 'COPY' | 'REPLACE'; metadata: Record<string, string>; contentType: string | undefined },
  ): Promise<{ comparable: boolean }> {
    const what = `copying ${this.bucket}/${source.key} to ${target.bucket}/${targetName}`;
    if (source.size <= this.maxSingleCopyBytes) {
      await withS3Retry(
        () =>
          target.copyClient.send(
            new CopyObjectCommand({
              Bucket: target.bucket,
              Key: targetName,
              CopySource: `${this.bucket}/${source.key}`,
              CopySourceIfMatch: source.etag,
              MetadataDirective: options.metadataDirective,
              ...(options.metadataDirective === 'REPLACE' ? { Metadata: options.metadata, ContentType: options.contentType } : {}),
            }),
          ),
        { ...target.context(what), name: targetName },
      );
      return { comparable: options.metadataDirective === 'COPY' && !unquote(source.etag).includes('-') };
    }
    // Above 5 GiB S3 copies only part by part; the metadata is given when the upload starts.
    const metadata = options.metadata;
    const upload = await S3MultipartUpload.create(
      { client: target.copyClient, bucket: target.bucket, key: targetName, policy: target.policy, logger: target.logger },
      { metadata, contentType: options.contentType ?? 'application/octet-stream', concurrency: target.queueSize },
    );
    try {
      for (const [index, range] of copyRanges(source.size, this.copyPartSize).entries()) {
        await upload.addCopyPart(index + 1, { bucket: this.bucket, key: source.key, etag: source.etag }, range);
      }
      await upload.complete();
    } catch (err) {
      await upload.abort();
      throw err;
    }
    this.logger.info({ object: source.key, target: `${target.bucket}/${targetName}`, size: source.size }, 'copied part by part (larger than one CopyObject allows)');
    return { comparable: false };
  }

  /**
   * Reads back what S3 holds under `name`: size, sha256 metadata and (when known) ETag must be
   * those expected, or the object is deleted and the write fails.
   */
  private async verifyStored(name: string, expected: { size: number; sha256: string; etag?: string; ifMatch?: string }, what: string): Promise<BlobInfo> {
    const head = await this.verifyObject(name, expected, what);
    const sha256 = head.Metadata?.[sha256MetadataKey];
    if (sha256 !== expected.sha256) {
      await this.deleteBad(name);
      throw digestMismatch(what, { sha256: expected.sha256, size: expected.size }, { sha256: String(sha256), size: head.ContentLength ?? 0 }, 'S3 holds other metadata than was written; it was deleted: try again');
    }
    return this.toInfo(name, head);
  }

  private async verifyObject(name: string, expected: { size: number; etag?: string; ifMatch?: string }, what: string): Promise<HeadObjectCommandOutput> {
    let head: HeadObjectCommandOutput;
    try {
      head = await withS3Retry(() => this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: name, IfMatch: expected.ifMatch })), this.context('reading back', name));
    } catch (err) {
      if (!isFleetcastError(err, 'NOT_FOUND') && !isFleetcastError(err, 'CONFLICT')) throw err;
      throw new FleetcastError('CONFLICT', `${what}: the object was replaced or deleted by another writer while it was being verified; try again`, { bucket: this.bucket, name });
    }
    const etag = unquote(head.ETag ?? '');
    // A multipart ETag (`<md5 of the parts' md5s>-<parts>`) is compared only when the server
    // makes one: some S3-compatible servers give another digest (s3rver: the object's MD5).
    const comparable = expected.etag !== undefined && (!expected.etag.includes('-') || etag.includes('-'));
    if ((head.ContentLength ?? -1) !== expected.size || (comparable && etag !== expected.etag)) {
      await this.deleteBad(name);
      throw new FleetcastError(
        'DIGEST_MISMATCH',
        `${what}: S3 holds ${head.ContentLength} bytes with ETag ${etag}, expected ${expected.size} bytes${expected.etag ? ` with ETag ${expected.etag}` : ''}; it was deleted: try again`,
        { bucket: this.bucket, name, expected, actual: { size: head.ContentLength, etag } },
      );
    }
    return head;
  }

  private async deleteBad(name: string): Promise<void> {
    await this.deleteObject(name).catch((err: unknown) => this.logger.error({ object: name, err: (err as Error).message }, 'could not delete an object that failed verification'));
  }

  private download(name: string, etag: string | undefined, start: number, end: number): Readable {
    return resumingDownload({
      open: async (from, to, signal) => {
        const response = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: name, Range: `bytes=${from}-${to}`, IfMatch: etag }), { abortSignal: signal });
        if (!response.Body) throw new FleetcastError('INTERNAL', `S3 answered a read of ${this.bucket}/${name} without a body`);
        return response.Body as AsyncIterable<Uint8Array>;
      },
      start,
      end,
      policy: this.policy,
      stallTimeoutMs: this.stallTimeoutMs,
      logger: this.logger,
      where: { bucket: this.bucket, name },
      highWaterMark: this.chunkSize,
      store: s3Errors,
    });
  }

  private head(name: string): Promise<HeadObjectCommandOutput> {
    return withS3Retry(() => this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: name })), this.context('reading metadata of', name));
  }

  private async headIfAny(name: string): Promise<HeadObjectCommandOutput | undefined> {
    try {
      return await this.head(name);
    } catch (err) {
      if (isFleetcastError(err, 'NOT_FOUND')) return undefined;
      throw err;
    }
  }

  private async deleteObject(name: string): Promise<void> {
    await withS3Retry(() => this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: name })), this.context('deleting', name));
  }

  private async *listObjects(prefix: string): AsyncGenerator<{ key: string; size: number; modified: Date | undefined }> {
    let token: string | undefined;
    do {
      const page = await withS3Retry(
        () => this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix || undefined, MaxKeys: this.listPageSize, ContinuationToken: token })),
        this.context('listing', prefix || undefined),
      );
      for (const object of page.Contents ?? []) {
        if (object.Key !== undefined) yield { key: object.Key, size: Number(object.Size ?? 0), modified: object.LastModified };
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  private async uploadOpenLog(openName: string, spill: string, bytes: number): Promise<void> {
    const body = bytes === 0 ? Buffer.alloc(0) : await readPrefix(spill, bytes);
    const md5 = createHash('md5').update(body).digest('base64');
    await withS3Retry(
      () => this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: openName, Body: body, ContentLength: body.length, ContentMD5: md5, ContentType: 'text/plain; charset=utf-8' })),
      this.context('publishing open log', openName),
    );
  }

  private async checkBucket(): Promise<void> {
    try {
      await withS3Retry(() => this.client.send(new HeadBucketCommand({ Bucket: this.bucket })), this.context('opening'));
    } catch (err) {
      if (!isFleetcastError(err, 'NOT_FOUND')) throw err;
      if (!this.options.createBucket) {
        throw new FleetcastError(
          'NOT_FOUND',
          `S3 bucket ${this.bucket} does not exist at ${this.endpoint === 'aws' ? 'AWS' : this.endpoint}; create it or check FLEETCAST_BUCKET_PREFIX, FLEETCAST_S3_ENDPOINT and FLEETCAST_S3_REGION`,
          { bucket: this.bucket },
          { cause: err },
        );
      }
      await withS3Retry(
        () =>
          this.client.send(new CreateBucketCommand({ Bucket: this.bucket })).catch((error: unknown) => {
            // Created meanwhile by another process.
            if (!['BucketAlreadyOwnedByYou', 'BucketAlreadyExists'].includes(s3ErrorName(error))) throw error;
          }),
        this.context('creating'),
      );
      this.logger.info('bucket created');
    }
  }

  /**
   * Temporary objects and multipart uploads of crashed writers, older than `staleUploadMs`. A
   * server without ListMultipartUploads (some S3-compatible ones) is left to its lifecycle
   * rules (AbortIncompleteMultipartUpload; docs/operations.md).
   */
  private async removeStaleUploads(): Promise<void> {
    const before = Date.now() - this.staleUploadMs;
    let removed = 0;
    for await (const object of this.listObjects(uploadPrefix)) {
      if (object.modified && object.modified.getTime() < before) {
        await this.deleteObject(object.key).catch(() => undefined);
        removed += 1;
      }
    }
    let keyMarker: string | undefined;
    let uploadIdMarker: string | undefined;
    try {
      do {
        const page = await withS3Retry(
          () => this.client.send(new ListMultipartUploadsCommand({ Bucket: this.bucket, KeyMarker: keyMarker, UploadIdMarker: uploadIdMarker })),
          this.context('listing unfinished uploads in'),
        );
        for (const upload of page.Uploads ?? []) {
          if (!upload.Key || !upload.UploadId || !upload.Initiated || upload.Initiated.getTime() >= before) continue;
          await withS3Retry(() => this.client.send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: upload.Key, UploadId: upload.UploadId })), this.context('aborting an unfinished upload of', upload.Key)).catch(
            () => undefined,
          );
          removed += 1;
        }
        const truncated = page.IsTruncated === true;
        keyMarker = truncated ? page.NextKeyMarker : undefined;
        uploadIdMarker = truncated ? page.NextUploadIdMarker : undefined;
      } while (keyMarker);
    } catch (err) {
      const status = s3Status((err as { cause?: unknown }).cause);
      if (status !== 501 && status !== 405) throw err;
      this.logger.debug('this S3 server cannot list multipart uploads; unfinished ones are left to its lifecycle rules');
    }
    if (removed > 0) this.logger.info({ removed }, 'removed unfinished uploads of crashed writers');
  }

  private toInfo(name: string, head: HeadObjectCommandOutput): BlobInfo {
    const custom: Record<string, string> = { ...(head.Metadata ?? {}) };
    const sha256 = custom[sha256MetadataKey];
    if (!sha256 || !/^[0-9a-f]{64}$/.test(sha256)) {
      throw new FleetcastError('INTERNAL', `object ${this.bucket}/${name} has no sha256 metadata: it was not written through fleetcast; upload it again with fleetcast`, {
        bucket: this.bucket,
        name,
      });
    }
    delete custom[sha256MetadataKey];
    return { bucket: this.bucket, name, size: Number(head.ContentLength ?? 0), sha256, metadata: custom, updated: head.LastModified ?? new Date(0) };
  }

  private context(doing: string, name?: string): S3RetryContext {
    return { policy: this.policy, logger: this.logger, doing, bucket: this.bucket, name };
  }
}

/** The first `bytes` bytes of a file (an open log: a few MB at most). */
async function readPrefix(file: string, bytes: number): Promise<Buffer> {
  const handle = await fsp.open(file, 'r');
  try {
    const buffer = Buffer.alloc(bytes);
    const { bytesRead } = await handle.read(buffer, 0, bytes, 0);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

function contentTypeOf(name: string): string {
  return name.endsWith('.log') ? 'text/plain; charset=utf-8' : 'application/octet-stream';
}

