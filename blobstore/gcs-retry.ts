import { gcsErrors } from './gcs-errors.ts';
import { withStoreRetry, type RequestContext } from './retry-policy.ts';

/** Runs one GCS request with retries (withStoreRetry). */
export function withGcsRetry<T>(work: () => Promise<T>, context: RequestContext): Promise<T> {
  return withStoreRetry(gcsErrors, work, context);
}
