import type { FileHandle } from 'node:fs/promises';
import { FleetcastError } from '../errors/index.ts';
import type { BlobInfo, LogWriter } from './blob-store.ts';

/**
 * Appends log lines to a local file, one write per line, in order. What happens at close (the
 * file becomes an object) is the store's business, passed in as `finish`.
 */
export class FileLogWriter implements LogWriter {
  private tail: Promise<void> = Promise.resolve();
  private closing: Promise<BlobInfo> | undefined;

  constructor(
    private readonly file: FileHandle,
    private readonly name: string,
    private readonly finish: () => Promise<BlobInfo>,
    private readonly mapError: (err: unknown) => Error,
    private readonly publish: () => Promise<void> = async () => undefined,
  ) {}

  append(line: string): Promise<void> {
    if (this.closing) return Promise.reject(new FleetcastError('CONFLICT', `log ${this.name} is closed; open it again to write more`));
    const text = line.endsWith('\n') ? line : line + '\n';
    const written = this.tail.then(async () => {
      await this.file.write(text).catch((err: unknown) => {
        throw this.mapError(err);
      });
    });
    // The next line waits for this one, whether or not it failed.
    this.tail = written.catch(() => undefined);
    return written;
  }

  async flush(): Promise<void> {
    await this.tail;
    await this.publish();
  }

  close(): Promise<BlobInfo> {
    this.closing ??= (async () => {
      await this.tail;
      await this.file.close();
      return this.finish();
    })();
    return this.closing;
  }
}
