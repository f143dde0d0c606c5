import type { Logger } from '../logging/index.ts';
import { backoff, type RetryPolicy } from './retry-policy.ts';
import { isRetriableS3Error, s3Error } from './s3-errors.ts';

export interface S3RetryContext {
  policy: RetryPolicy;
  logger: Logger;
  doing: string;
  bucket: string;
  name?: string;
}

/**
 * Runs one S3 request until it succeeds, fails for a reason a retry cannot fix (404, 412,
 * 403…), or has been tried `maxAttempts` times; waits between tries with exponential backoff.
 * The SDK's own retries are off (maxAttempts 1), so no request is retried twice over. Only for
 * requests that are safe to repeat: reads, deletes, a part with its bytes in memory, copies to a
 * fixed name. Whatever it throws is a FleetcastError.
 */
export async function withS3Retry<T>(work: () => Promise<T>, context: S3RetryContext): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (err) {
      if (!isRetriableS3Error(err) || attempt >= context.policy.maxAttempts) {
        throw s3Error(err, context.doing, { bucket: context.bucket, name: context.name }, attempt);
      }
      context.logger.warn({ object: context.name, attempt, err: (err as Error)?.message }, `S3 ${context.doing} failed; retrying`);
      await backoff(context.policy, attempt);
    }
  }
}
