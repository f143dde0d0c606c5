import fsp, { type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import hypercoreCrypto from 'hypercore-crypto';
import { FleetcastError } from '../../errors/index.ts';
import { blockCount, blockLength, coreBlockSize, type CoreKeyPair } from '../../goalstate/index.ts';
import { Bitfield } from './bitfield.ts';
import type { BlockTree } from './block-tree.ts';
import { BlockTree as Tree } from './block-tree.ts';
import { coreKeyOf } from './hypercore-tree.ts';
import { regionTopic } from './region-topic.ts';

/** The fields of a goal (or of a bucket listing) that name one build's core. */
export interface CoreBuild {
  service: string;
  build: string;
  /** sha256 of the artifact, hex. */
  digest: string;
  size: number;
  /** The signer's public key, hex (the goal's `p2pKey`). */
  p2pKey: string;
}

/**
 * One build's core on this machine, stored as the artifact itself: its blocks live in one plain
 * file at their offsets (a seeder's `<dir>/data`; an agent's `.partial`, then the installed build
 * it was renamed to), beside small records in `dir`: the signed tree (`tree`), which blocks are
 * held (`have`), whether the whole file matched the build's sha256 (`verified`) and where the file
 * is (`file`). Nothing is
 * stored twice: the file an agent installs is the one it serves from.
 *
 * The core's key and tree are Hypercore's (hypercore-tree.ts): whoever knows the goal's p2pKey
 * can check a tree and every block, and only holders of the cluster secret (seeders) can sign one.
 */
export class ArtifactCore {
  private file: FileHandle | undefined;
  private filePath: string | null = null;
  private fileMode: 'read' | 'write' = 'write';
  private haveFile: FileHandle | undefined;
  private flushing: Promise<void> = Promise.resolve();
  private flushQueued: Promise<void> | undefined;
  private treeValue: BlockTree | null;
  private readonly haveListeners = new Set<(index: number) => void>();
  readonly discoveryKey: Buffer;

  private constructor(
    readonly build: CoreBuild,
    readonly dir: string,
    readonly have: Bitfield,
    tree: BlockTree | null,
    readonly keyPair: CoreKeyPair | undefined,
  ) {
    this.treeValue = tree;
    this.discoveryKey = Buffer.from(hypercoreCrypto.discoveryKey(coreKeyOf(this.signer)));
  }

  /**
   * Opens (or creates) the core's records in `dir`. With `keyPair` the core can be signed here
   * (a seeder); without, it only accepts a tree signed by the build's key.
   */
  static async open(dir: string, build: CoreBuild, keyPair?: CoreKeyPair): Promise<ArtifactCore> {
    const signer = Buffer.from(build.p2pKey, 'hex');
    if (keyPair && !keyPair.publicKey.equals(signer)) {
      throw new FleetcastError('CONFIG_INVALID', `build ${build.build} (${build.service}): its P2P key ${build.p2pKey} is not the key this cluster secret gives its digest; give this seeder the coordinator's FLEETCAST_SECRET`, {
        build: build.build,
        p2pKey: build.p2pKey,
      });
    }
    await fsp.mkdir(dir, { recursive: true });
    const blocks = blockCount(build.size);
    const encoded = await fsp.readFile(path.join(dir, 'tree')).catch(() => null);
    const tree = encoded ? Tree.verified(encoded, build.size, signer) : null;
    if (encoded && !tree) {
      throw new FleetcastError('INTERNAL', `${dir} holds another tree than that of build ${build.build}; remove the directory`, { dir, build: build.build });
    }
    const held = tree ? await fsp.readFile(path.join(dir, 'have')).catch(() => undefined) : undefined;
    return new ArtifactCore(build, dir, new Bitfield(blocks, held), tree, keyPair);
  }

  private get signer(): Buffer {
    return Buffer.from(this.build.p2pKey, 'hex');
  }

  /** The core's key (hex, Hypercore's). */
  get key(): string {
    return coreKeyOf(this.signer).toString('hex');
  }

  /** Blocks the complete core has. */
  get blocks(): number {
    return blockCount(this.build.size);
  }

  get tree(): BlockTree | null {
    return this.treeValue;
  }

  /** Whether every block is held here. */
  get complete(): boolean {
    return this.treeValue !== null && this.have.complete;
  }

  /** The file the blocks are read from and written to, once one was given. */
  get dataFile(): string | null {
    return this.filePath;
  }

  /** The Hyperswarm topic of this core in `region`. */
  topic(region: string): Buffer {
    return regionTopic(this.signer, region);
  }

  /**
   * Reads (and, for `write`, writes) the blocks in `file` from now on (created when missing). A
   * file that was renamed while open (an agent's install) is still the same file: its handle keeps
   * working. A served build is open read-only: a program open for writing cannot be run (ETXTBSY).
   */
  async useFile(file: string, mode: 'read' | 'write' = 'write'): Promise<void> {
    if (this.filePath === file && this.file && this.fileMode === mode) return;
    await fsp.mkdir(path.dirname(file), { recursive: true });
    const handle =
      mode === 'read'
        ? await fsp.open(file, 'r')
        : await fsp.open(file, 'r+').catch(async (err: NodeJS.ErrnoException) => {
            if (err.code !== 'ENOENT') throw err;
            return fsp.open(file, 'w+');
          });
    await this.file?.close();
    this.file = handle;
    this.filePath = file;
    this.fileMode = mode;
    // Where the blocks are, for a later process: an unfinished fetch's core is kept while its file is.
    await fsp.writeFile(path.join(this.dir, 'file'), file);
  }

  /** Keeps a tree checked against the build's key (verified by the caller or made here). */
  async setTree(tree: BlockTree): Promise<void> {
    this.treeValue = tree;
    await fsp.writeFile(path.join(this.dir, 'tree'), tree.encode());
  }

  /** Signs the tree of the blocks written (a seeder, once every block is in the file). */
  async signTree(leaves: Buffer): Promise<void> {
    if (!this.keyPair) throw new FleetcastError('INTERNAL', `the core of build ${this.build.build} is not writable here`);
    await this.setTree(Tree.sign(this.build.size, leaves, this.keyPair));
  }

  /** Reads block `index` into `into` (at least a block long); returns the block's bytes. */
  async readBlock(index: number, into: Buffer): Promise<Buffer> {
    const length = blockLength(index, this.build.size);
    const handle = this.requireFile();
    let read = 0;
    while (read < length) {
      const { bytesRead } = await handle.read(into, read, length - read, index * coreBlockSize + read);
      if (bytesRead === 0) throw new FleetcastError('INTERNAL', `block ${index} of build ${this.build.build} is missing from ${this.filePath}`, { file: this.filePath });
      read += bytesRead;
    }
    return into.subarray(0, length);
  }

  /** Writes a block checked against the tree, and records it as held. */
  async writeBlock(index: number, data: Uint8Array): Promise<void> {
    const handle = this.requireFile();
    let written = 0;
    while (written < data.byteLength) {
      const { bytesWritten } = await handle.write(data, written, data.byteLength - written, index * coreBlockSize + written);
      written += bytesWritten;
    }
    this.have.set(index);
    // Recorded before it counts (a progress report, a HAVE to peers): a fetch killed with -9
    // resumes with every block it reported. A few bytes per MiB block.
    await this.flushHave();
    for (const listener of this.haveListeners) listener(index);
  }

  /** Records every block as held (a seeder's core, made and checked as a whole). */
  async holdAll(): Promise<void> {
    for (let index = 0; index < this.blocks; index++) this.have.set(index);
    await this.flushHave();
  }

  /** Calls `listener` with each block written from now on. */
  onHave(listener: (index: number) => void): () => void {
    this.haveListeners.add(listener);
    return () => this.haveListeners.delete(listener);
  }

  /**
   * Cuts the file to the blocks held from the start without a gap, and forgets the others: what
   * another fetcher (the bucket's) may resume, by the fetcher contract.
   */
  async keepPrefix(): Promise<number> {
    const prefix = this.have.contiguous();
    for (let index = prefix; index < this.blocks; index++) this.have.set(index, false);
    const bytes = Math.min(prefix * coreBlockSize, this.build.size);
    if (this.file) await this.file.truncate(bytes);
    await this.flushHave();
    return bytes;
  }

  /** Cuts whatever an earlier, longer file left behind the last block. */
  async truncateFile(): Promise<void> {
    await this.file?.truncate(this.build.size);
  }

  async sync(): Promise<void> {
    await this.file?.sync();
  }

  /** Whether the whole artifact in the file matched the build's sha256. */
  async isVerified(): Promise<boolean> {
    const value = await fsp.readFile(path.join(this.dir, 'verified'), 'utf8').catch(() => null);
    return value === this.build.digest && this.complete;
  }

  async markVerified(): Promise<void> {
    await this.flushHave();
    await fsp.writeFile(path.join(this.dir, 'verified'), this.build.digest);
  }

  async close(): Promise<void> {
    if (this.treeValue) await this.flushHave().catch(() => undefined);
    await this.haveFile?.close().catch(() => undefined);
    this.haveFile = undefined;
    await this.file?.close().catch(() => undefined);
    this.file = undefined;
  }

  private requireFile(): FileHandle {
    if (!this.file) throw new FleetcastError('INTERNAL', `the core of build ${this.build.build} has no data file yet`);
    return this.file;
  }

  /** Writes the held-blocks record; writes asked for while one runs are folded into the next. */
  private flushHave(): Promise<void> {
    if (this.flushQueued) return this.flushQueued;
    const run = this.flushing.then(async () => {
      this.flushQueued = undefined;
      this.haveFile ??= await fsp.open(path.join(this.dir, 'have'), 'w');
      await this.haveFile.write(this.have.bytes, 0, this.have.bytes.byteLength, 0);
    });
    this.flushQueued = run;
    this.flushing = run.catch(() => undefined);
    return run;
  }
}
