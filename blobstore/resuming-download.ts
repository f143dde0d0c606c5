import { Readable } from 'node:stream';
import type { Logger } from '../logging/index.ts';
import { gcsError, isRetriableGcsError } from './gcs-errors.ts';
import { backoff, type RetryPolicy } from './retry-policy.ts';

export interface ResumingDownloadOptions {
  /** Opens the bytes `start`..`end` (inclusive) of the object. */
  open: (start: number, end: number) => Readable;
  start: number;
  /** Inclusive; `start - 1` for an empty read. */
  end: number;
  policy: RetryPolicy;
  logger: Logger;
  where: { bucket: string; name: string };
  highWaterMark: number;
}

/**
 * A download that survives broken connections and 5xx answers: when a request fails, it asks
 * again for the bytes it has not delivered yet (a Range request from the current offset), so a
 * 10 GB read does not restart from zero. Gives up after `maxAttempts` failures without progress.
 */
export function resumingDownload(options: ResumingDownloadOptions): Readable {
  const { open, end, policy, logger, where } = options;
  async function* chunks(): AsyncGenerator<Buffer> {
    let offset = options.start;
    let failures = 0;
    while (offset <= end) {
      const request = open(offset, end);
      const before = offset;
      try {
        for await (const chunk of request as AsyncIterable<Buffer>) {
          offset += chunk.length;
          yield chunk;
        }
        if (offset <= end) {
          throw Object.assign(new Error(`download ended early at byte ${offset} of ${end + 1}`), { code: 'ECONNRESET' });
        }
      } catch (err) {
        request.destroy();
        if (offset > before) failures = 0;
        failures += 1;
        if (!isRetriableGcsError(err) || failures >= policy.maxAttempts) throw gcsError(err, 'reading', where, failures);
        logger.warn({ object: where.name, offset, attempt: failures, err: (err as Error)?.message }, 'GCS download failed; resuming');
        await backoff(policy, failures);
      }
    }
  }
  return Readable.from(chunks(), { objectMode: false, highWaterMark: options.highWaterMark });
}
