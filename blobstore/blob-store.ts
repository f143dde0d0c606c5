import type { Readable } from 'node:stream';

export type BlobStoreKind = 'fs' | 'gcs' | 's3';

/** What a store knows about one stored object. */
export interface BlobInfo {
  bucket: string;
  name: string;
  /** Bytes. */
  size: number;
  /** sha256 of the whole object, 64 lower-case hex characters; computed by the store while writing. */
  sha256: string;
  /** Caller's string metadata, as given to `put`. */
  metadata: Record<string, string>;
  /** When this version of the object was written. */
  updated: Date;
}

/** One entry of `list`. */
export interface BlobListing {
  name: string;
  size: number;
}

/** Bytes `start` to `end`, both inclusive, like HTTP `Range` and `fs.createReadStream`. */
export interface ByteRange {
  /** @defaultValue 0 */
  start?: number;
  /** Inclusive; past the end of the object means up to the end. @defaultValue the last byte */
  end?: number;
}

/** Anything that yields bytes: a Node stream, a web-style async iterable, a generator. */
export type BlobSource = Readable | AsyncIterable<Uint8Array>;

export interface PutOptions {
  /**
   * The sha256 the bytes must have. The store hashes while it writes and the object only appears
   * under its name when the digest (and `size`, if given) match; otherwise `put` fails with
   * DIGEST_MISMATCH and leaves nothing behind. Omit it only when no digest is known yet (logs).
   */
  sha256?: string;
  /** The size the bytes must have; checked like `sha256`. */
  size?: number;
  /** Small string metadata kept with the object (at most 8 KiB as JSON). The key `sha256` is reserved. */
  metadata?: Record<string, string>;
}

export interface GetOptions {
  range?: ByteRange;
  /**
   * Whole-object reads hash what they deliver and fail the stream with DIGEST_MISMATCH at the
   * end when it is not the stored sha256 (ranges cannot be checked). Turn off where the reader
   * verifies anyway, e.g. a copy into a store that checks the digest on write. @defaultValue true
   */
  verify?: boolean;
}

/** A build log being written: lines land in storage while the build runs. */
export interface LogWriter {
  /** Appends one line (a newline is added when missing). Resolves once the store accepted it. */
  append(line: string): Promise<void>;
  /** Makes what was appended visible to readers on other machines now (GCS); a no-op where it already is (fs). */
  flush(): Promise<void>;
  /** Ends the log: it becomes an ordinary object, with its sha256, under its name. */
  close(): Promise<BlobInfo>;
}

/** A piece of a log read from an offset, for `fleetcast logs --follow`. */
export interface LogChunk {
  data: Buffer;
  /** The offset to read from next time. */
  nextOffset: number;
  /** True once the writer closed the log: nothing will follow `nextOffset` once it is reached. */
  complete: boolean;
}

/**
 * One bucket of blob storage. Objects are written whole and verified: a reader never sees a
 * half-written or digest-mismatched object under its name. Bytes always stream — no operation
 * holds a whole object in memory, so a 10 GB artifact passes through with bounded memory.
 *
 * Names are paths such as `artifacts/api/b42/<sha256>`: segments of letters, digits, `.`, `_`
 * and `-`, none empty or starting with a dot (see object-name.ts).
 */
export interface BlobStore {
  readonly kind: BlobStoreKind;
  readonly bucket: string;

  /** Streams `source` into the object `name`, replacing any object of that name once verified. */
  put(name: string, source: BlobSource, options?: PutOptions): Promise<BlobInfo>;

  /** The object's bytes (or a range of them). NOT_FOUND before the stream is returned if absent. */
  get(name: string, options?: GetOptions): Promise<Readable>;

  /** Size, sha256 and metadata; NOT_FOUND if absent. */
  stat(name: string): Promise<BlobInfo>;

  exists(name: string): Promise<boolean>;

  /**
   * Copies `name` to `targetName` (default: the same name) in `target`, which may be another
   * bucket of the same kind (server-side where the store offers it) or of another kind
   * (streamed). The copy is verified: same size and sha256, or DIGEST_MISMATCH and no object.
   */
  copy(name: string, target: BlobStore, targetName?: string): Promise<BlobInfo>;

  /** Removes the object; false if there was none. */
  delete(name: string): Promise<boolean>;

  /** Objects whose name starts with `prefix`, in lexicographic order of name. */
  list(prefix?: string): AsyncIterable<BlobListing>;

  /** Starts a log object that readers can follow while it is written (see each store's notes). */
  openLog(name: string): Promise<LogWriter>;

  /** Up to `maxBytes` of a log from `fromOffset`, whether the log is still open or closed. */
  readLog(name: string, fromOffset?: number, maxBytes?: number): Promise<LogChunk>;

  /** Releases clients and timers. */
  close(): Promise<void>;
}
