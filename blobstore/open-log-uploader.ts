import fsp from 'node:fs/promises';
import type { Logger } from '../logging/index.ts';

export interface OpenLogUploaderOptions {
  /** The local file the log's lines are appended to. */
  spill: string;
  intervalMs: number;
  /** Uploads the first `bytes` bytes of the spill file where readers look for the open log. */
  upload: (bytes: number) => Promise<void>;
  logger: Logger;
}

/**
 * Publishes a log that lives in a local file by uploading the whole file again every interval
 * while it grows (GCS objects cannot be appended to). Readers elsewhere therefore lag by up to
 * one interval; a failed upload is logged and tried again at the next tick.
 */
export class OpenLogUploader {
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<void> | undefined;
  private uploadedBytes = -1;

  constructor(private readonly options: OpenLogUploaderOptions) {}

  start(): void {
    this.timer = setInterval(() => void this.flush(), this.options.intervalMs);
    // A forgotten log must not keep a process alive.
    this.timer.unref();
  }

  /** Uploads now if the file grew since the last upload; resolves when that upload ended. */
  flush(): Promise<void> {
    this.inFlight ??= (async () => {
      try {
        const { size } = await fsp.stat(this.options.spill);
        if (size === this.uploadedBytes) return;
        await this.options.upload(size);
        this.uploadedBytes = size;
      } catch (err) {
        this.options.logger.warn({ err: (err as Error)?.message }, 'could not publish the open log; trying again at the next interval');
      } finally {
        this.inFlight = undefined;
      }
    })();
    return this.inFlight;
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.inFlight;
  }
}
