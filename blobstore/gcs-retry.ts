import type { Logger } from '../logging/index.ts';
import { gcsError, isRetriableGcsError } from './gcs-errors.ts';
import { backoff, type RetryPolicy } from './retry-policy.ts';

/**
 * Runs one GCS request until it succeeds, fails for a reason a retry cannot fix (404, 412,
 * 403…), or has been tried `maxAttempts` times; waits between tries with exponential backoff.
 * Only for requests that are safe to repeat: reads, deletes, server-side copies to a fixed name.
 * Whatever it throws is a FleetcastError.
 */
export async function withGcsRetry<T>(
  work: () => Promise<T>,
  context: { policy: RetryPolicy; logger: Logger; doing: string; bucket: string; name?: string },
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (err) {
      if (!isRetriableGcsError(err) || attempt >= context.policy.maxAttempts) {
        throw gcsError(err, context.doing, { bucket: context.bucket, name: context.name }, attempt);
      }
      context.logger.warn(
        { object: context.name, attempt, err: (err as Error)?.message },
        `GCS ${context.doing} failed; retrying`,
      );
      await backoff(context.policy, attempt);
    }
  }
}
