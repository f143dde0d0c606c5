import type { Build } from '../../queue/index.ts';

export interface LogChunk {
  text: string;
  /** Where the next read starts: the offset given plus the bytes of `text`. */
  nextOffset: number;
}

/**
 * Where the API reads build logs from. The builder writes logs to the blob store and will
 * provide the implementation over it; the coordinator only needs this one operation.
 *
 * A read returns whatever exists from `offset` (possibly a bounded part of it, possibly
 * nothing yet). The API calls a log complete when the build is final and a read returns no
 * text, so an implementation never has to say "this is the end" itself — but the builder
 * must have made the whole log readable before it marks the build SUCCEEDED or FAILED, or
 * lines written after that may never be streamed.
 */
export interface BuildLogSource {
  read(build: Build, offset: number): Promise<LogChunk>;
}

/** Until a blob-store-backed source is given: every log is empty. */
export const emptyBuildLog: BuildLogSource = {
  async read(_build, offset) {
    return { text: '', nextOffset: offset };
  },
};
