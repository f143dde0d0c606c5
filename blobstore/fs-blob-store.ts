import { createHash } from 'node:crypto';
import fs, { type BigIntStats } from 'node:fs';
import fsp, { type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setTimeout as delay } from 'node:timers/promises';
import { FleetcastError } from '../errors/index.ts';
import { silentLogger, type Logger } from '../logging/index.ts';
import { checkPutOptions, resolveRange } from './blob-options.ts';
import type { BlobInfo, BlobListing, BlobSource, BlobStore, GetOptions, LogChunk, LogWriter, PutOptions } from './blob-store.ts';
import { DigestStream } from './digest-stream.ts';
import { digestMismatch } from './digests.ts';
import { FileLogWriter } from './file-log-writer.ts';
import { errnoCode, fsError } from './fs-error.ts';
import { walkFiles } from './fs-walk.ts';
import { readLogOptions } from './log-options.ts';
import { validateBucketName } from './names.ts';
import { isValidObjectName, validateListPrefix, validateObjectName } from './object-name.ts';
import { trackSource } from './source-tracking.ts';
import { streamCopy } from './stream-copy.ts';
import { removeAbandonedTempFiles, tempFileName } from './temp-files.ts';
import { VerifyingStream } from './verifying-stream.ts';

export interface FsBlobStoreOptions {
  /** The folder holding one folder per bucket, e.g. `<FLEETCAST_DATA_DIR>/buckets`. */
  root: string;
  bucket: string;
  /**
   * fsync each object, its sidecar and their folders before `put` returns, so an acknowledged
   * object survives a power cut. Tests and benchmarks of throughput may turn it off. @defaultValue true
   */
  fsync?: boolean;
  /** Bytes per read and write. @defaultValue 1 MiB */
  chunkSize?: number;
  /** Temp files untouched this long are removed at open even if their writer seems alive. @defaultValue 24 h */
  staleTempMs?: number;
  /**
   * Copy to a bucket on the same filesystem by hard-linking the object's file instead of
   * copying its bytes. Objects are never modified in place (a put replaces the file by rename),
   * so the link is the very bytes whose sha256 the source's put verified. @defaultValue true
   */
  linkCopies?: boolean;
  logger?: Logger;
}

/** Bookkeeping lives under a dot folder, a name no object can have (object-name.ts). */
const bookkeeping = '.fleetcast';

/** What the store records beside each object. Written before the object is renamed into place. */
interface Sidecar {
  version: 1;
  size: number;
  sha256: string;
  metadata: Record<string, string>;
  /** The data file's mtime, to detect a sidecar that belongs to another version of the file. */
  mtimeNs: string;
}

/**
 * A bucket as a folder: `<root>/<bucket>/<name>` holds the object's bytes, so operators can
 * look at artifacts with ordinary tools. Beside it, under `<root>/<bucket>/.fleetcast/`:
 * `meta/<name>.json` (size, sha256, metadata), `tmp/` (writes in progress) and `open/<name>`
 * (logs being written).
 *
 * A put writes a temp file in the bucket's own tmp folder (same filesystem, so rename is
 * atomic), hashing as it goes, fsyncs it, writes the sidecar, then renames the file to its
 * name: a crash never leaves a partial object under the final name, and temp files of crashed
 * writers are removed when a store opens the bucket.
 *
 * If a crash lands between the sidecar's rename and the object's, the sidecar no longer
 * matches the file (its mtime differs); readers notice, re-hash the file and rewrite the sidecar.
 *
 * Objects are never changed in place, so a copy to another bucket on the same filesystem is a
 * hard link (no bytes move, like a same-location GCS rewrite); elsewhere copies stream.
 */
export class FsBlobStore implements BlobStore {
  readonly kind = 'fs' as const;
  readonly bucket: string;
  /** `<root>/<bucket>`. */
  readonly dir: string;
  private readonly metaDir: string;
  private readonly tmpDir: string;
  private readonly openDir: string;
  private readonly fsync: boolean;
  private readonly chunkSize: number;
  private readonly staleTempMs: number;
  private readonly linkCopies: boolean;
  private readonly logger: Logger;

  private constructor(options: FsBlobStoreOptions) {
    this.bucket = validateBucketName(options.bucket);
    this.dir = path.join(path.resolve(options.root), this.bucket);
    this.metaDir = path.join(this.dir, bookkeeping, 'meta');
    this.tmpDir = path.join(this.dir, bookkeeping, 'tmp');
    this.openDir = path.join(this.dir, bookkeeping, 'open');
    this.fsync = options.fsync ?? true;
    this.chunkSize = options.chunkSize ?? 1 << 20;
    this.staleTempMs = options.staleTempMs ?? 24 * 3_600_000;
    this.linkCopies = options.linkCopies ?? true;
    this.logger = (options.logger ?? silentLogger()).child({ blobstore: 'fs', bucket: this.bucket });
  }

  /** Creates the bucket's folder if needed and removes what crashed writers left behind. */
  static async open(options: FsBlobStoreOptions): Promise<FsBlobStore> {
    const store = new FsBlobStore(options);
    for (const dir of [store.metaDir, store.tmpDir, store.openDir]) {
      await fsp.mkdir(dir, { recursive: true }).catch((err: unknown) => {
        throw fsError(err, dir, 'creating the bucket folder');
      });
    }
    await removeAbandonedTempFiles(store.tmpDir, { maxAgeMs: store.staleTempMs, logger: store.logger });
    return store;
  }

  async put(name: string, source: BlobSource, options?: PutOptions): Promise<BlobInfo> {
    validateObjectName(name);
    const expected = checkPutOptions(options);
    const { info } = await this.writeObject(name, source, expected);
    return info;
  }

  async get(name: string, options: GetOptions = {}): Promise<Readable> {
    return (await this.read(name, options)).stream;
  }

  /** `get` that also says what is being read; copies use it to avoid a second stat. */
  async read(name: string, options: GetOptions = {}): Promise<{ info: BlobInfo; stream: Readable }> {
    validateObjectName(name);
    const { file, info } = await this.openConsistent(name);
    try {
      const range = resolveRange(options.range, info.size, `${this.bucket}/${name}`);
      const raw = file.createReadStream({ start: range?.start ?? 0, end: range?.end, highWaterMark: this.chunkSize });
      if (range || options.verify === false) return { info, stream: raw };
      const verifier = new VerifyingStream({ sha256: info.sha256, size: info.size, what: `read of ${this.bucket}/${name}` }, { highWaterMark: this.chunkSize });
      // Errors reach the reader through `verifier`, which pipeline destroys with them.
      pipeline(raw, verifier).catch(() => undefined);
      return { info, stream: verifier };
    } catch (err) {
      await file.close();
      throw err;
    }
  }

  async stat(name: string): Promise<BlobInfo> {
    validateObjectName(name);
    const { file, info } = await this.openConsistent(name);
    await file.close();
    return info;
  }

  async exists(name: string): Promise<boolean> {
    validateObjectName(name);
    const stat = await fsp.stat(this.dataPath(name)).catch(() => undefined);
    return stat?.isFile() ?? false;
  }

  async copy(name: string, target: BlobStore, targetName: string = name): Promise<BlobInfo> {
    validateObjectName(name);
    validateObjectName(targetName);
    if (target instanceof FsBlobStore && this.linkCopies && target.linkCopies) {
      const linked = await this.linkInto(target, name, targetName);
      if (linked) return linked;
    }
    // Bytes pass through once: the target hashes them as it writes and checks them against
    // this object's sha256, so reading without verification loses nothing.
    return streamCopy(await this.read(name, { verify: false }), target, targetName);
  }

  async delete(name: string): Promise<boolean> {
    validateObjectName(name);
    const file = this.dataPath(name);
    let existed = true;
    await fsp.unlink(file).catch((err: unknown) => {
      const code = errnoCode(err);
      if (code === 'ENOENT' || code === 'EISDIR' || code === 'ENOTDIR' || code === 'EPERM') existed = false;
      else throw fsError(err, file, `deleting ${name}`);
    });
    await fsp.rm(this.metaPath(name), { force: true });
    await this.pruneEmptyFolders(path.dirname(file), this.dir);
    await this.pruneEmptyFolders(path.dirname(this.metaPath(name)), this.metaDir);
    return existed;
  }

  async *list(prefix = ''): AsyncGenerator<BlobListing> {
    validateListPrefix(prefix);
    for await (const { name, file } of walkFiles(this.dir, prefix, new Set([bookkeeping]))) {
      // Files dropped in by hand under names no object can have (editor backups…) are not objects.
      if (!isValidObjectName(name)) continue;
      const stat = await fsp.stat(file).catch(() => undefined);
      if (stat?.isFile()) yield { name, size: stat.size };
    }
  }

  /**
   * A log under `.fleetcast/open/<name>` that readers on this machine follow with `readLog`;
   * at close it becomes the object `name` (with its sha256) and the open file goes. Reopening
   * a log whose writer died appends to what it left.
   */
  async openLog(name: string): Promise<LogWriter> {
    validateObjectName(name);
    const file = this.openPath(name);
    const handle = await fsp
      .mkdir(path.dirname(file), { recursive: true })
      .then(() => fsp.open(file, 'a'))
      .catch((err: unknown) => {
        throw fsError(err, file, `opening log ${name}`);
      });
    return new FileLogWriter(
      handle,
      name,
      async () => {
        const info = await this.put(name, fs.createReadStream(file, { highWaterMark: this.chunkSize }));
        await fsp.rm(file, { force: true });
        await this.pruneEmptyFolders(path.dirname(file), this.openDir);
        return info;
      },
      (err) => fsError(err, file, `appending to log ${name}`),
    );
  }

  async readLog(name: string, fromOffset = 0, maxBytes?: number): Promise<LogChunk> {
    validateObjectName(name);
    const limit = readLogOptions(name, fromOffset, maxBytes);
    // The open file goes only after the closed object exists: checking in this order never
    // misses a log that is closing.
    for (const [file, complete] of [
      [this.openPath(name), false],
      [this.dataPath(name), true],
    ] as const) {
      let handle: FileHandle;
      try {
        handle = await fsp.open(file, 'r');
      } catch (err) {
        if (errnoCode(err) === 'ENOENT' || errnoCode(err) === 'ENOTDIR') continue;
        throw fsError(err, file, `reading log ${name}`);
      }
      try {
        const { size } = await handle.stat();
        if (fromOffset > size) {
          throw new FleetcastError('INVALID_INPUT', `log ${name} has ${size} bytes; cannot read from offset ${fromOffset}`, { fromOffset, size });
        }
        const data = Buffer.alloc(Math.min(limit, size - fromOffset));
        const { bytesRead } = data.length > 0 ? await handle.read(data, 0, data.length, fromOffset) : { bytesRead: 0 };
        const nextOffset = fromOffset + bytesRead;
        return { data: data.subarray(0, bytesRead), nextOffset, complete: complete && nextOffset >= size };
      } finally {
        await handle.close();
      }
    }
    throw new FleetcastError('NOT_FOUND', `no log ${this.bucket}/${name}: the build has not started writing it, or it was deleted`, {
      bucket: this.bucket,
      name,
    });
  }

  async close(): Promise<void> {
    // Nothing held between calls.
  }

  /**
   * The "server-side copy" of the filesystem: a hard link committed like any put (temp name,
   * sidecar, rename). Undefined when linking is impossible (another filesystem, a filesystem
   * without links) or the object changed meanwhile: the caller then streams.
   */
  private async linkInto(target: FsBlobStore, name: string, targetName: string): Promise<BlobInfo | undefined> {
    const { file, info } = await this.openConsistent(name);
    try {
      const temp = path.join(target.tmpDir, tempFileName());
      try {
        await fsp.link(this.dataPath(name), temp);
      } catch (err) {
        if (['EXDEV', 'EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'EMLINK', 'ENOENT'].includes(errnoCode(err) ?? '')) return undefined;
        throw fsError(err, target.dir, `copying ${name}`);
      }
      const [linked, checked] = [await fsp.stat(temp, { bigint: true }), await file.stat({ bigint: true })];
      // A put may have replaced the name between our check and the link.
      if (linked.ino !== checked.ino || linked.dev !== checked.dev || Number(linked.size) !== info.size) {
        await fsp.rm(temp, { force: true });
        return undefined;
      }
      const sidecar: Sidecar = { version: 1, size: info.size, sha256: info.sha256, metadata: info.metadata, mtimeNs: String(linked.mtimeNs) };
      try {
        await target.commit(targetName, temp, sidecar);
      } catch (err) {
        await fsp.rm(temp, { force: true });
        throw fsError(err, target.dir, `copying ${name}`);
      }
      return target.toInfo(targetName, sidecar, linked);
    } finally {
      await file.close();
    }
  }

  // ---- writing

  private async writeObject(
    name: string,
    source: BlobSource,
    expected: { sha256?: string; size?: number; metadata: Record<string, string> },
  ): Promise<{ info: BlobInfo }> {
    const temp = path.join(this.tmpDir, tempFileName());
    const digest = new DigestStream({ highWaterMark: this.chunkSize });
    const input = trackSource(source);
    try {
      await pipeline(input.iterable, digest, fs.createWriteStream(temp, { flags: 'wx', highWaterMark: this.chunkSize, flush: this.fsync }));
    } catch (err) {
      await fsp.rm(temp, { force: true });
      const failure = input.failure();
      if (failure) throw failure.error;
      throw fsError(err, this.dir, `writing ${name}`);
    }
    try {
      const actual = { sha256: digest.sha256, size: digest.size };
      if ((expected.sha256 !== undefined && expected.sha256 !== actual.sha256) || (expected.size !== undefined && expected.size !== actual.size)) {
        throw digestMismatch(`put ${this.bucket}/${name}`, expected, actual);
      }
      const stat = await fsp.stat(temp, { bigint: true });
      const sidecar: Sidecar = { version: 1, size: actual.size, sha256: actual.sha256, metadata: expected.metadata, mtimeNs: String(stat.mtimeNs) };
      await this.commit(name, temp, sidecar);
      return { info: this.toInfo(name, sidecar, stat) };
    } catch (err) {
      await fsp.rm(temp, { force: true });
      throw fsError(err, this.dir, `writing ${name}`);
    }
  }

  /** Sidecar first, then the object: the object's rename is the moment it exists. */
  private async commit(name: string, temp: string, sidecar: Sidecar): Promise<void> {
    const file = this.dataPath(name);
    const meta = this.metaPath(name);
    const metaTemp = path.join(this.tmpDir, tempFileName('json'));
    await this.writeDurably(metaTemp, JSON.stringify(sidecar));
    try {
      // A concurrent delete may prune a folder between our mkdir and rename: try again.
      for (let attempt = 1; ; attempt++) {
        try {
          await this.makeFolder(path.dirname(meta));
          await this.makeFolder(path.dirname(file));
          await fsp.rename(metaTemp, meta);
          await fsp.rename(temp, file);
          break;
        } catch (err) {
          if (errnoCode(err) !== 'ENOENT' || attempt === 3) throw err;
        }
      }
    } catch (err) {
      await fsp.rm(metaTemp, { force: true });
      throw err;
    }
    if (this.fsync) {
      await syncFolder(path.dirname(meta));
      await syncFolder(path.dirname(file));
    }
  }

  private async writeDurably(file: string, text: string): Promise<void> {
    const handle = await fsp.open(file, 'wx');
    try {
      await handle.writeFile(text);
      if (this.fsync) await handle.sync();
    } finally {
      await handle.close();
    }
  }

  private async makeFolder(dir: string): Promise<void> {
    const created = await fsp.mkdir(dir, { recursive: true });
    // A new folder is durable only once its parent's entry is.
    if (created && this.fsync) await syncFolder(path.dirname(created));
  }

  private async pruneEmptyFolders(from: string, stopAt: string): Promise<void> {
    for (let dir = from; dir.startsWith(stopAt + path.sep); dir = path.dirname(dir)) {
      try {
        await fsp.rmdir(dir);
      } catch {
        return; // not empty (or gone): its parents are not empty either
      }
    }
  }

  // ---- reading

  /**
   * Opens the object's file and returns it with a sidecar that belongs to this very file. A put
   * replacing the object renames the sidecar just before the file, so a mismatch seen once is
   * usually a write in flight: look again a few times before concluding a crash left it behind.
   */
  private async openConsistent(name: string): Promise<{ file: FileHandle; info: BlobInfo }> {
    const dataPath = this.dataPath(name);
    for (let attempt = 1; ; attempt++) {
      let file: FileHandle;
      try {
        file = await fsp.open(dataPath, 'r');
      } catch (err) {
        const code = errnoCode(err);
        if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR') throw this.notFound(name);
        throw fsError(err, dataPath, `reading ${name}`);
      }
      try {
        const stat = await file.stat({ bigint: true });
        if (!stat.isFile()) throw this.notFound(name);
        const sidecar = await this.readSidecar(name);
        if (sidecar && sidecar.mtimeNs === String(stat.mtimeNs) && sidecar.size === Number(stat.size)) {
          return { file, info: this.toInfo(name, sidecar, stat) };
        }
        if (attempt === 4) return { file, info: await this.repairSidecar(name, file, stat, sidecar) };
      } catch (err) {
        await file.close();
        throw err;
      }
      await file.close();
      await delay(25 * attempt);
    }
  }

  private async readSidecar(name: string): Promise<Sidecar | undefined> {
    try {
      const parsed = JSON.parse(await fsp.readFile(this.metaPath(name), 'utf8')) as Sidecar;
      return parsed.version === 1 ? parsed : undefined;
    } catch {
      return undefined;
    }
  }

  /** The object's file has no sidecar of its own (crash between renames, or copied in by hand): hash it. */
  private async repairSidecar(name: string, file: FileHandle, stat: BigIntStats, previous: Sidecar | undefined): Promise<BlobInfo> {
    this.logger.warn({ object: name }, 'object has no matching sidecar (interrupted write or file copied in by hand); re-hashing it');
    const hash = createHash('sha256');
    for await (const chunk of fs.createReadStream('', { fd: file.fd, start: 0, autoClose: false, highWaterMark: this.chunkSize })) {
      hash.update(chunk as Buffer);
    }
    const sidecar: Sidecar = {
      version: 1,
      size: Number(stat.size),
      sha256: hash.digest('hex'),
      // The metadata may be the previous version's; that is the best there is.
      metadata: previous?.metadata ?? {},
      mtimeNs: String(stat.mtimeNs),
    };
    const metaTemp = path.join(this.tmpDir, tempFileName('json'));
    await this.writeDurably(metaTemp, JSON.stringify(sidecar));
    await this.makeFolder(path.dirname(this.metaPath(name)));
    await fsp.rename(metaTemp, this.metaPath(name));
    return this.toInfo(name, sidecar, stat);
  }

  private toInfo(name: string, sidecar: Sidecar, stat: BigIntStats): BlobInfo {
    return {
      bucket: this.bucket,
      name,
      size: sidecar.size,
      sha256: sidecar.sha256,
      metadata: { ...sidecar.metadata },
      updated: new Date(Number(stat.mtimeMs)),
    };
  }

  private notFound(name: string): FleetcastError {
    return new FleetcastError('NOT_FOUND', `no object ${this.bucket}/${name}`, { bucket: this.bucket, name });
  }

  // ---- paths (names are validated: no "..", no absolute paths, no empty segments)

  private dataPath(name: string): string {
    return path.join(this.dir, ...name.split('/'));
  }

  private metaPath(name: string): string {
    return path.join(this.metaDir, ...name.split('/')) + '.json';
  }

  private openPath(name: string): string {
    return path.join(this.openDir, ...name.split('/'));
  }
}

async function syncFolder(dir: string): Promise<void> {
  const handle = await fsp.open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
