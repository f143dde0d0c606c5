import { Readable } from 'node:stream';
import type { Logger } from '../logging/index.ts';
import { backoff, type RetryPolicy, type StoreErrors } from './retry-policy.ts';

type Where = { bucket: string; name: string };

export interface ResumingDownloadOptions {
  /** Requests the bytes `start`..`end` (inclusive) of the object; `signal` ends that request. */
  open: (start: number, end: number, signal: AbortSignal) => Promise<AsyncIterable<Uint8Array>>;
  start: number;
  /** Inclusive; `start - 1` for an empty read. */
  end: number;
  policy: RetryPolicy;
  /** A request that delivers nothing for this long is dropped and resumed. */
  stallTimeoutMs: number;
  logger: Logger;
  where: Where;
  highWaterMark: number;
  /** The store's errors (gcsErrors, s3Errors): its name for messages, what a retry may fix. */
  store: StoreErrors;
}

/**
 * A download that survives broken connections and 5xx answers: when a request fails, it asks
 * again for the bytes it has not delivered yet (a Range request from the current offset), so a
 * 10 GB read does not restart from zero. Gives up after `maxAttempts` failures without progress.
 * The GCS and S3 stores both read through it.
 *
 * Why the stall timer: when a connection drops in the middle of a response that has a
 * Content-Length, a client library's stream may neither error nor end (seen with
 * @google-cloud/storage 7.22 on Node 20: it waits forever). Only time tells, so a request
 * silent for `stallTimeoutMs` is treated as broken. The timer runs only while waiting for the
 * server, never while the reader is busy with what it got.
 */
export function resumingDownload(options: ResumingDownloadOptions): Readable {
  const { open, end, policy, logger, where, store } = options;
  async function* chunks(): AsyncGenerator<Uint8Array> {
    let offset = options.start;
    let failures = 0;
    while (offset <= end) {
      const controller = new AbortController();
      const before = offset;
      try {
        const body = await within(open(offset, end, controller.signal), options.stallTimeoutMs, store.name);
        const iterator = body[Symbol.asyncIterator]();
        try {
          for (;;) {
            const next = await within(iterator.next(), options.stallTimeoutMs, store.name);
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
        if (!store.isRetriable(err) || failures >= policy.maxAttempts) throw store.error(err, 'reading', where, failures);
        logger.warn({ object: where.name, offset, attempt: failures, err: (err as Error)?.message }, `${store.name} download failed; resuming`);
        await backoff(policy, failures);
      }
    }
  }
  return Readable.from(chunks(), { objectMode: false, highWaterMark: options.highWaterMark });
}

/** `pending`, or an ETIMEDOUT error if it takes longer than `ms`. */
async function within<T>(pending: Promise<T>, ms: number, store: string): Promise<T> {
  pending.catch(() => undefined); // settles after we gave up on it; nobody else listens
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(Object.assign(new Error(`no data from ${store} for ${ms} ms`), { code: 'ETIMEDOUT' })), ms);
  });
  try {
    return await Promise.race([pending, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
