import { withStoreRetry, type RequestContext } from './retry-policy.ts';
import { s3Errors } from './s3-errors.ts';

export type S3RetryContext = RequestContext;

/**
 * Runs one S3 request with retries (withStoreRetry). The SDK's own retries are off
 * (maxAttempts 1), so no request is retried twice over.
 */
export function withS3Retry<T>(work: () => Promise<T>, context: S3RetryContext): Promise<T> {
  return withStoreRetry(s3Errors, work, context);
}
