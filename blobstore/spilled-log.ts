import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import type { Logger } from '../logging/index.ts';
import type { BlobInfo, LogWriter } from './blob-store.ts';
import { FileLogWriter } from './file-log-writer.ts';
import { fsError } from './fs-error.ts';
import { OpenLogUploader } from './open-log-uploader.ts';
import { tempFileName } from './temp-files.ts';

/** Where an object store keeps the copy of a log that is still being written. */
export const openLogPrefix = '.fleetcast-open-logs/';

/** What an object store (GCS, S3) lends a log spilled to a local file. */
export interface SpilledLogStore {
  spillDir: string;
  flushIntervalMs: number;
  /** Read size of the spill file when it is put at close. */
  chunkSize: number;
  logger: Logger;
  /** Uploads the first `bytes` bytes of `spill` whole, as the object `openName`. */
  uploadOpen(openName: string, spill: string, bytes: number): Promise<void>;
  put(name: string, source: Readable): Promise<BlobInfo>;
  deleteObject(name: string): Promise<unknown>;
}

/**
 * A log for a store whose objects cannot be appended to. Lines go to a local spill file; every
 * `flushIntervalMs` (and on `flush`) the file is uploaded whole to `.fleetcast-open-logs/<name>`,
 * where `readLog` finds it. At close it is put under `name` with its sha256 and the open copy is
 * deleted.
 *
 * Limitations: readers on other machines lag by up to one interval; each interval uploads the
 * whole log again, which suits logs of a few MB, not hundreds; if the writer dies, the open copy
 * stays (with what was last uploaded) until someone deletes it.
 */
export async function openSpilledLog(name: string, store: SpilledLogStore): Promise<LogWriter> {
  const spill = path.join(store.spillDir, `fleetcast-log-${tempFileName('log')}`);
  const handle = await fsp.open(spill, 'wx').catch((err: unknown) => {
    throw fsError(err, spill, `opening log ${name}`);
  });
  const openName = openLogPrefix + name;
  const uploader = new OpenLogUploader({
    spill,
    intervalMs: store.flushIntervalMs,
    upload: (bytes) => store.uploadOpen(openName, spill, bytes),
    logger: store.logger.child({ log: name }),
  });
  // Readers can find the log as soon as it is opened, empty.
  await uploader.flush();
  uploader.start();
  return new FileLogWriter(
    handle,
    name,
    async () => {
      await uploader.stop();
      const info = await store.put(name, fs.createReadStream(spill, { highWaterMark: store.chunkSize }));
      await store.deleteObject(openName);
      await fsp.rm(spill, { force: true });
      return info;
    },
    (err) => fsError(err, spill, `appending to log ${name}`),
    () => uploader.flush(),
  );
}
