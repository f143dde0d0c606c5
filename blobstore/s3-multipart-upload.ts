import { createHash } from 'node:crypto';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  UploadPartCommand,
  UploadPartCopyCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { FleetcastError, isFleetcastError } from '../errors/index.ts';
import type { Logger } from '../logging/index.ts';
import type { RetryPolicy } from './retry-policy.ts';
import { s3Error } from './s3-errors.ts';
import { withS3Retry } from './s3-retry.ts';

export interface MultipartTarget {
  client: S3Client;
  /** For CompleteMultipartUpload, which may take minutes of silence on a large object. @defaultValue `client` */
  slowClient?: S3Client;
  bucket: string;
  key: string;
  policy: RetryPolicy;
  logger: Logger;
}

/** What Complete answered, and what this side expects of it. */
export interface CompletedUpload {
  etag: string;
  /** The ETag S3 gives a multipart object when ETags are MD5s: md5 of the parts' md5s, `-<parts>`. */
  expectedEtag: string | undefined;
}

/**
 * One multipart upload to `key`: nothing appears under the key until complete(), so a writer
 * that fails (or dies) half-way leaves the previous object, if any, untouched. Parts go up a
 * few at once; each carries its Content-MD5, which S3 checks, and the ETag S3 answers (the MD5
 * of what it stored, unless the bucket encrypts with KMS or customer keys) is compared too, so
 * bytes damaged on the way are sent again rather than stored.
 */
export class S3MultipartUpload {
  private readonly parts: { PartNumber: number; ETag: string; md5: Buffer | undefined }[] = [];
  private readonly running = new Set<Promise<void>>();
  private failure: { error: unknown } | undefined;
  /** False once S3 says an ETag is not an MD5 (SSE-KMS, SSE-C): then only Content-MD5 guards the parts. */
  private etagsAreMd5 = true;

  private constructor(
    private readonly target: MultipartTarget,
    readonly uploadId: string,
    private readonly concurrency: number,
  ) {}

  static async create(target: MultipartTarget, options: { metadata: Record<string, string>; contentType: string; concurrency: number }): Promise<S3MultipartUpload> {
    const created = await withS3Retry(
      () => target.client.send(new CreateMultipartUploadCommand({ Bucket: target.bucket, Key: target.key, Metadata: options.metadata, ContentType: options.contentType })),
      { policy: target.policy, logger: target.logger, doing: 'starting a multipart upload to', bucket: target.bucket, name: target.key },
    );
    if (!created.UploadId) throw new FleetcastError('INTERNAL', `S3 started a multipart upload to ${target.bucket}/${target.key} without an upload id`);
    return new S3MultipartUpload(target, created.UploadId, Math.max(1, options.concurrency));
  }

  /**
   * Queues part `number` (1-based) with its bytes; resolves once it may be given the next one
   * (fewer than `concurrency` parts in flight). Rejects with the first part's failure.
   */
  async addPart(number: number, body: Buffer, sent?: () => void): Promise<void> {
    this.throwIfFailed();
    this.track(() => this.sendPart(number, body).finally(sent));
    while (this.running.size >= this.concurrency) await Promise.race(this.running);
    this.throwIfFailed();
  }

  /** Queues part `number` as a server-side copy of bytes `start`..`end` of `source` (`bucket/key`). */
  async addCopyPart(number: number, source: { bucket: string; key: string; etag: string }, range: { start: number; end: number }): Promise<void> {
    this.throwIfFailed();
    this.track(async () => {
      const copied = await withS3Retry(
        () =>
          this.target.client.send(
            new UploadPartCopyCommand({
              Bucket: this.target.bucket,
              Key: this.target.key,
              UploadId: this.uploadId,
              PartNumber: number,
              CopySource: `${source.bucket}/${source.key}`,
              CopySourceIfMatch: source.etag,
              CopySourceRange: `bytes=${range.start}-${range.end}`,
            }),
          ),
        this.context(`copying part ${number} of ${source.bucket}/${source.key} to`),
      );
      const etag = copied.CopyPartResult?.ETag;
      if (!etag) throw new FleetcastError('INTERNAL', `S3 copied part ${number} to ${this.target.bucket}/${this.target.key} without an ETag`);
      // The source's bytes are not in this process: nothing to compare the part's MD5 with.
      this.etagsAreMd5 = false;
      this.parts.push({ PartNumber: number, ETag: etag, md5: undefined });
    });
    while (this.running.size >= this.concurrency) await Promise.race(this.running);
    this.throwIfFailed();
  }

  /** Waits for every part, then assembles the object under its key. */
  async complete(): Promise<CompletedUpload> {
    await this.settle();
    this.throwIfFailed();
    const parts = [...this.parts].sort((a, b) => a.PartNumber - b.PartNumber);
    const response = await withS3Retry(
      () =>
        (this.target.slowClient ?? this.target.client).send(
          new CompleteMultipartUploadCommand({
            Bucket: this.target.bucket,
            Key: this.target.key,
            UploadId: this.uploadId,
            MultipartUpload: { Parts: parts.map(({ PartNumber, ETag }) => ({ PartNumber, ETag })) },
          }),
        ),
      this.context('completing the multipart upload of'),
    );
    const md5s = parts.map((p) => p.md5);
    const expectedEtag =
      this.etagsAreMd5 && md5s.every((m): m is Buffer => m !== undefined) ? `${createHash('md5').update(Buffer.concat(md5s)).digest('hex')}-${parts.length}` : undefined;
    return { etag: unquote(response.ETag ?? ''), expectedEtag };
  }

  /** Drops the upload and its parts. Best effort: a leftover is removed when a store opens the bucket later, or by a lifecycle rule. */
  async abort(): Promise<void> {
    await this.settle();
    try {
      await withS3Retry(
        () => this.target.client.send(new AbortMultipartUploadCommand({ Bucket: this.target.bucket, Key: this.target.key, UploadId: this.uploadId })),
        this.context('aborting the multipart upload of'),
      );
    } catch (err) {
      if (isFleetcastError(err, 'NOT_FOUND')) return;
      this.target.logger.warn(
        { object: this.target.key, uploadId: this.uploadId, err: (err as Error).message },
        'could not abort a multipart upload; its parts stay until the bucket is opened again or a lifecycle rule (AbortIncompleteMultipartUpload) removes them',
      );
    }
  }

  private async sendPart(number: number, body: Buffer): Promise<void> {
    const md5 = createHash('md5').update(body).digest();
    const response = await withS3Retry(async () => {
      const sent = await this.target.client.send(
        new UploadPartCommand({ Bucket: this.target.bucket, Key: this.target.key, UploadId: this.uploadId, PartNumber: number, Body: body, ContentMD5: md5.toString('base64'), ContentLength: body.length }),
      );
      if (sent.ServerSideEncryption?.startsWith('aws:kms') || sent.SSECustomerAlgorithm) this.etagsAreMd5 = false;
      const etag = unquote(sent.ETag ?? '');
      if (this.etagsAreMd5 && etag !== md5.toString('hex')) {
        // S3 stored other bytes than were sent (a server that ignores Content-MD5): send them again.
        throw Object.assign(new Error(`S3 answered ETag ${etag} for part ${number}, whose MD5 is ${md5.toString('hex')}`), { name: 'BadDigest', Code: 'BadDigest' });
      }
      return sent;
    }, this.context(`uploading part ${number} of`));
    this.parts.push({ PartNumber: number, ETag: response.ETag ?? '', md5 });
  }

  private track(work: () => Promise<void>): void {
    const task: Promise<void> = work()
      .catch((error: unknown) => {
        this.failure ??= { error: isFleetcastError(error) ? error : s3Error(error, 'uploading', { bucket: this.target.bucket, name: this.target.key }) };
      })
      .finally(() => this.running.delete(task));
    this.running.add(task);
  }

  private async settle(): Promise<void> {
    while (this.running.size > 0) await Promise.all(this.running);
  }

  private throwIfFailed(): void {
    if (this.failure) throw this.failure.error;
  }

  private context(doing: string) {
    return { policy: this.target.policy, logger: this.target.logger, doing, bucket: this.target.bucket, name: this.target.key };
  }
}

export function unquote(etag: string): string {
  return etag.replace(/^W\//, '').replace(/"/g, '');
}
