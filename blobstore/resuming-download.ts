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
 *
 * Why the stall timer: when a connection drops in the middle of a response that has a
 * Content-Length, the client library's stream neither errors nor ends (seen with 7.22 on
 * Node 20: it waits forever). Only time tells, so a request silent for `stallTimeoutMs` is
 * treated as broken. The timer runs only while waiting for the server, never while the
 * reader is busy with what it got.
 */
export function resumingDownload(options: ResumingDownloadOptions): Readable {
  const { open, end, policy, logger, where } = options;
  async function* chunks(): AsyncGenerator<Buffer> {
    let offset = options.start;
    let failures = 0;
    while (offset <= end) {
      const request = open(offset, end);
      const chunks = (request as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
      const before = offset;
      try {
        for (;;) {
          const next = await within(chunks.next(), options.stallTimeoutMs);
          if (next.done) break;
          offset += next.value.length;
          yield next.value;
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

/** `pending`, or an ETIMEDOUT error if it takes longer than `ms`. */
async function within<T>(pending: Promise<T>, ms: number): Promise<T> {
  pending.catch(() => undefined); // settles after we gave up on it; nobody else listens
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(Object.assign(new Error(`no data from GCS for ${ms} ms`), { code: 'ETIMEDOUT' })), ms);
  });
  try {
    return await Promise.race([pending, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
