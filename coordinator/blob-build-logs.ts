import { logObjectName, type BlobStore } from '../blobstore/index.ts';
import { isFleetcastError } from '../errors/index.ts';
import type { BuildLogSource, LogChunk } from './api/index.ts';
import type { Build } from '../queue/index.ts';

/** Bytes per read: `fleetcast logs --follow` asks again for more. */
const chunkBytes = 256 * 1024;

/**
 * Build logs as builders write them: in the main bucket, readable while the build runs. The
 * builder closes the log before it records the outcome, so a final build's log is whole.
 */
export class BlobBuildLogs implements BuildLogSource {
  constructor(private readonly store: BlobStore) {}

  async read(build: Build, offset: number): Promise<LogChunk> {
    try {
      const chunk = await this.store.readLog(logObjectName(build.service, build.id), offset, chunkBytes);
      return { text: chunk.data.toString('utf8'), nextOffset: chunk.nextOffset };
    } catch (err) {
      // No log yet: the build is queued, or its worker has not opened it.
      if (isFleetcastError(err, 'NOT_FOUND')) return { text: '', nextOffset: offset };
      throw err;
    }
  }
}
