import { FleetcastError, isFleetcastError } from '../errors/index.ts';
import type { StoreErrors } from './retry-policy.ts';

const retriableStatuses = new Set([408, 429, 500, 502, 503, 504]);
const retriableNames = new Set(['SlowDown', 'RequestTimeout', 'RequestTimeoutException', 'InternalError', 'ServiceUnavailable', 'ThrottlingException', 'TimeoutError', 'BadDigest']);
const connectionProblems = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN', 'ENOTFOUND', 'ECONNABORTED', 'ERR_STREAM_PREMATURE_CLOSE']);

interface SdkError {
  name?: unknown;
  Code?: unknown;
  code?: unknown;
  message?: unknown;
  $metadata?: { httpStatusCode?: unknown };
  $response?: { statusCode?: unknown };
}

/** The HTTP status of an `@aws-sdk/client-s3` error, if the server answered at all. */
export function s3Status(err: unknown): number | undefined {
  const e = err as SdkError | null;
  for (const value of [e?.$metadata?.httpStatusCode, e?.$response?.statusCode]) {
    if (typeof value === 'number') return value;
  }
  return undefined;
}

/** The S3 error code (`NoSuchKey`, `SlowDown`…), or the SDK's error name. */
export function s3ErrorName(err: unknown): string {
  const e = err as SdkError | null;
  return String(e?.Code ?? e?.name ?? '');
}

/**
 * 408, 429, 5xx, throttling, BadDigest (bytes damaged on the way: sending them again fixes it)
 * and broken connections: worth another try after a wait.
 */
export function isRetriableS3Error(err: unknown): boolean {
  if (isFleetcastError(err)) return err.code === 'STORAGE_UNAVAILABLE';
  const status = s3Status(err);
  if (status !== undefined && retriableStatuses.has(status)) return true;
  if (retriableNames.has(s3ErrorName(err))) return true;
  if (status !== undefined) return false;
  const code = (err as SdkError | null)?.code;
  if (typeof code === 'string' && connectionProblems.has(code.toUpperCase())) return true;
  const message = String((err as SdkError | null)?.message ?? '').toLowerCase();
  return message.includes('socket hang up') || message.includes('premature close') || message.includes('econnreset') || message === 'aborted';
}

/** An SDK error as a FleetcastError whose message says what failed and what to do. */
export function s3Error(err: unknown, doing: string, where: { bucket: string; name?: string }, attempts?: number): FleetcastError {
  if (isFleetcastError(err)) return err;
  const status = s3Status(err);
  const code = s3ErrorName(err);
  const detail = `${code && code !== 'Error' ? `${code}: ` : ''}${String((err as SdkError | null)?.message ?? err)}`.slice(0, 300);
  const details = { ...where, status, s3Code: code, attempts };
  const object = where.name === undefined ? `bucket ${where.bucket}` : `${where.bucket}/${where.name}`;
  if (code === 'NoSuchBucket') {
    return new FleetcastError('NOT_FOUND', `S3 bucket ${where.bucket} does not exist (${doing}); create it or check FLEETCAST_BUCKET_PREFIX, FLEETCAST_S3_ENDPOINT and FLEETCAST_S3_REGION`, details, { cause: err });
  }
  if (status === 404 || code === 'NoSuchKey' || code === 'NotFound' || code === 'NoSuchUpload') {
    return new FleetcastError('NOT_FOUND', `no object ${object}`, details, { cause: err });
  }
  if (status === 412 || status === 409 || code === 'PreconditionFailed') {
    return new FleetcastError('CONFLICT', `${doing} ${object}: it changed meanwhile (${detail}); try again`, details, { cause: err });
  }
  if (status === 401 || status === 403) {
    return new FleetcastError(
      'FORBIDDEN',
      `S3 refused ${doing} ${object} (${status} ${code}): check the credentials this process finds (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE, an instance role) and that they may read and write the bucket (s3:GetObject, PutObject, DeleteObject, ListBucket, AbortMultipartUpload)`,
      details,
      { cause: err },
    );
  }
  if (code === 'InvalidDigest' || code === 'BadDigest') {
    return new FleetcastError('DIGEST_MISMATCH', `${doing} ${object}: the bytes S3 received do not match their Content-MD5 (${detail}), damaged in transit; nothing was kept: try again`, details, { cause: err });
  }
  if (isRetriableS3Error(err)) {
    return new FleetcastError(
      'STORAGE_UNAVAILABLE',
      `S3 kept failing while ${doing} ${object} (${detail}) ${attempts === undefined ? 'after retries' : `after ${attempts} ${attempts === 1 ? 'try' : 'tries'}`}; it may be overloaded or unreachable: try again later`,
      details,
      { cause: err },
    );
  }
  return new FleetcastError('INTERNAL', `S3 error while ${doing} ${object}: ${detail}`, details, { cause: err });
}

/** S3's errors for the shared retry loop and resumable download. */
export const s3Errors: StoreErrors = { name: 'S3', isRetriable: isRetriableS3Error, error: s3Error };
