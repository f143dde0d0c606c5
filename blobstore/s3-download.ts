import { Readable } from 'node:stream';
import type { Logger } from '../logging/index.ts';
import { backoff, type RetryPolicy } from './retry-policy.ts';
import { isRetriableS3Error, s3Error } from './s3-errors.ts';

export interface S3DownloadOptions {
  /** Requests the bytes `start`..`end` (inclusive) of the object (a ranged GetObject). */
  open: (start: number, end: number, signal: AbortSignal) => Promise<AsyncIterable<Uint8Array>>;
  start: number;
  /** Inclusive; `start - 1` for an empty read. */
  end: number;
  policy: RetryPolicy;
  /** A request that delivers nothing for this long is dropped and resumed. */
  stallTimeoutMs: number;
  logger: Logger;
  where: { bucket: string; name: string };
  highWaterMark: number;
}

/**
 * A download that survives broken connections and 5xx answers: when a request fails, it asks
 * again for the bytes it has not delivered yet (a Range request from the current offset), so a
 * 10 GB read does not restart from zero. Gives up after `maxAttempts` failures without progress.
 * The GCS store's resuming-download.ts does the same with that client's streams and errors.
 *
 * A request silent for `stallTimeoutMs` (a connection that died without a reset) is treated as
 * broken; the timer runs only while waiting for the server, never while the reader is busy.
 */
export function s3Download(options: S3DownloadOptions): Readable {
  const { open, end, policy, logger, where } = options;
  async function* chunks(): AsyncGenerator<Uint8Array> {
    let offset = options.start;
    let failures = 0;
    while (offset <= end) {
      const controller = new AbortController();
      const before = offset;
      try {
        const body = await within(open(offset, end, controller.signal), options.stallTimeoutMs);
        const iterator = body[Symbol.asyncIterator]();
        try {
          for (;;) {
            const next = await within(iterator.next(), options.stallTimeoutMs);
            if (next.done) break;
            offset += next.value.length;
            yield next.value;
          }
        } finally {
          // Ends the response (and frees its socket) whether we finished, failed or were abandoned.
          void iterator.return?.()?.catch(() => undefined);
        }
        if (offset <= end) {
          throw Object.assign(new Error(`download ended early at byte ${offset} of ${end + 1}`), { code: 'ECONNRESET' });
        }
      } catch (err) {
        controller.abort();
        if (offset > before) failures = 0;
        failures += 1;
        if (!isRetriableS3Error(err) || failures >= policy.maxAttempts) throw s3Error(err, 'reading', where, failures);
        logger.warn({ object: where.name, offset, attempt: failures, err: (err as Error)?.message }, 'S3 download failed; resuming');
        await backoff(policy, failures);
      }
    }
  }
  return Readable.from(chunks(), { objectMode: false, highWaterMark: options.highWaterMark });
}

/** `pending`, or an ETIMEDOUT error if it takes longer than `ms`. */
async function within<T>(pending: Promise<T>, ms: number): Promise<T> {
  pending.catch(() => undefined); // settles after we gave up on it; nobody else listens
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(Object.assign(new Error(`no data from S3 for ${ms} ms`), { code: 'ETIMEDOUT' })), ms);
  });
  try {
    return await Promise.race([pending, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
