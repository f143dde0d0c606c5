import type { TLSSocket } from 'node:tls';
import type { RateLimiter } from '../limits/rate-limiter.ts';
import type { ArtifactCore } from './artifact-core.ts';
import { blockPool } from './block-pool.ts';
import { dataHeader, encodeFrame, Frame, FrameReader, indexBody, type ReceivedFrame } from './block-wire.ts';
import { blockLength } from '../../goalstate/index.ts';

/** What a peer said it holds of one core. */
export class RemoteCore {
  hasTree = false;
  private bits: Uint8Array = new Uint8Array(0);
  private held = 0;

  constructor(bitfield: Uint8Array) {
    this.bits = Uint8Array.from(bitfield);
    for (let i = 0; i < this.bits.byteLength * 8; i++) if (this.has(i)) this.held++;
  }

  has(index: number): boolean {
    return (this.bits[index >> 3] ?? 0) & (1 << (index & 7)) ? true : false;
  }

  add(index: number): void {
    if (this.has(index)) return;
    if (index >> 3 >= this.bits.byteLength) {
      const grown = new Uint8Array((index >> 3) + 1);
      grown.set(this.bits);
      this.bits = grown;
    }
    this.bits[index >> 3]! |= 1 << (index & 7);
    this.held++;
  }

  /** Whether it holds all `blocks` blocks (a seeder, or a machine that finished). */
  complete(blocks: number): boolean {
    return this.held >= blocks;
  }
}

/** Someone downloading a core over this session. */
export interface CoreDownloader {
  onTree(session: BlockSession, encoded: Buffer): void;
  /** A block arrived; `data` is pooled: the downloader gives it back (blockPool.give). */
  onData(session: BlockSession, index: number, data: Buffer): void;
  /** The peer's holdings changed (open, have), or the session closed. */
  onChange(): void;
}

export interface BlockSessionOptions {
  /** The peer's swarm public key, hex. */
  peer: string;
  socket: TLSSocket;
  /** This machine's upload cap, shared by every session. */
  uploadLimiter: RateLimiter;
  /** The core this machine serves under a discovery key (hex), if any. */
  served: (core: string) => ArtifactCore | undefined;
  /** Bytes of a core uploaded. */
  onUpload: (core: ArtifactCore, bytes: number) => void;
  onClose: () => void;
}

/**
 * The block exchange with one admitted peer over its TLS connection: each side announces the
 * cores it holds (OPEN, HAVE), asks for trees and blocks (WANT_TREE, REQUEST, CANCEL) and
 * answers (TREE, DATA). Uploads are answered one at a time, each once the machine's upload
 * limiter let its bytes pass, so memory stays at about a block per peer; a block is read from the
 * core's file into a pooled buffer and handed to the socket, which TCP sends with the kernel's
 * offloads.
 */
export class BlockSession {
  readonly peer: string;
  private readonly remotes = new Map<string, RemoteCore>();
  private readonly downloaders = new Map<string, CoreDownloader>();
  /** Blocks this machine asked this peer for, per core. */
  private readonly asked = new Map<string, Set<number>>();
  private readonly uploads: { core: string; index: number }[] = [];
  private uploading = false;
  private closed = false;
  private readonly reader: FrameReader;

  constructor(private readonly options: BlockSessionOptions) {
    this.peer = options.peer;
    this.reader = new FrameReader((frame) => this.onFrame(frame));
    options.socket.on('data', (chunk: Buffer) => {
      try {
        this.reader.push(chunk);
      } catch {
        this.close();
      }
    });
    options.socket.on('close', () => this.close());
    options.socket.on('error', () => this.close());
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Announces a core this machine holds (part of). */
  open(core: ArtifactCore): void {
    const flags = Buffer.from([core.tree ? 1 : 0]);
    this.send(encodeFrame(Frame.OPEN, core.discoveryKey, Buffer.concat([flags, core.tree ? core.have.bytes : new Uint8Array(0)])));
  }

  have(core: ArtifactCore, index: number): void {
    this.send(encodeFrame(Frame.HAVE, core.discoveryKey, indexBody(index)));
  }

  unopen(core: ArtifactCore): void {
    this.send(encodeFrame(Frame.CLOSE, core.discoveryKey));
  }

  /** What the peer holds of the core, if it announced it. */
  remote(core: ArtifactCore): RemoteCore | undefined {
    return this.remotes.get(core.discoveryKey.toString('hex'));
  }

  attach(core: ArtifactCore, downloader: CoreDownloader): void {
    this.downloaders.set(core.discoveryKey.toString('hex'), downloader);
  }

  detach(core: ArtifactCore): void {
    const key = core.discoveryKey.toString('hex');
    this.downloaders.delete(key);
    for (const index of this.asked.get(key) ?? []) this.send(encodeFrame(Frame.CANCEL, core.discoveryKey, indexBody(index)));
    this.asked.delete(key);
  }

  wantTree(core: ArtifactCore): void {
    this.send(encodeFrame(Frame.WANT_TREE, core.discoveryKey));
  }

  request(core: ArtifactCore, index: number): void {
    const key = core.discoveryKey.toString('hex');
    const asked = this.asked.get(key) ?? new Set<number>();
    asked.add(index);
    this.asked.set(key, asked);
    this.send(encodeFrame(Frame.REQUEST, core.discoveryKey, indexBody(index)));
  }

  cancel(core: ArtifactCore, index: number): void {
    if (this.asked.get(core.discoveryKey.toString('hex'))?.delete(index)) this.send(encodeFrame(Frame.CANCEL, core.discoveryKey, indexBody(index)));
  }

  /** This machine's requests to the peer in flight for the core. */
  inflight(core: ArtifactCore): number {
    return this.asked.get(core.discoveryKey.toString('hex'))?.size ?? 0;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.options.socket.destroy();
    this.uploads.length = 0;
    const downloaders = [...this.downloaders.values()];
    this.downloaders.clear();
    for (const downloader of downloaders) downloader.onChange();
    this.options.onClose();
  }

  private send(frame: Buffer): void {
    if (!this.closed) this.options.socket.write(frame);
  }

  private onFrame(frame: ReceivedFrame): void {
    if (this.closed) {
      if (frame.data) blockPool.give(frame.data);
      return;
    }
    switch (frame.type) {
      case Frame.OPEN: {
        const remote = new RemoteCore(frame.body.subarray(1));
        remote.hasTree = frame.body[0] === 1;
        this.remotes.set(frame.core, remote);
        this.downloaders.get(frame.core)?.onChange();
        return;
      }
      case Frame.HAVE:
        this.remotes.get(frame.core)?.add(frame.index);
        this.downloaders.get(frame.core)?.onChange();
        return;
      case Frame.CLOSE:
        this.remotes.delete(frame.core);
        this.downloaders.get(frame.core)?.onChange();
        return;
      case Frame.WANT_TREE: {
        const tree = this.options.served(frame.core)?.tree;
        if (tree) this.send(encodeFrame(Frame.TREE, Buffer.from(frame.core, 'hex'), tree.encode()));
        return;
      }
      case Frame.TREE:
        this.downloaders.get(frame.core)?.onTree(this, frame.body);
        return;
      case Frame.REQUEST: {
        const core = this.options.served(frame.core);
        // Only blocks held (each checked against the signed tree when it was stored) are served.
        if (!core?.have.get(frame.index)) return;
        this.uploads.push({ core: frame.core, index: frame.index });
        void this.drainUploads();
        return;
      }
      case Frame.CANCEL: {
        const at = this.uploads.findIndex((u) => u.core === frame.core && u.index === frame.index);
        if (at >= 0) this.uploads.splice(at, 1);
        return;
      }
      case Frame.DATA: {
        const data = frame.data!;
        const downloader = this.downloaders.get(frame.core);
        // Only blocks this machine asked for are taken.
        if (!downloader || !this.asked.get(frame.core)?.delete(frame.index)) {
          blockPool.give(data);
          return;
        }
        downloader.onData(this, frame.index, data);
        return;
      }
    }
  }

  private async drainUploads(): Promise<void> {
    if (this.uploading) return;
    this.uploading = true;
    try {
      for (let next = this.uploads.shift(); next && !this.closed; next = this.uploads.shift()) {
        const core = this.options.served(next.core);
        if (!core) continue;
        const bytes = blockLength(next.index, core.build.size);
        await this.options.uploadLimiter.take(bytes);
        if (this.closed) return;
        const buffer = blockPool.take();
        try {
          const block = await core.readBlock(next.index, buffer);
          const socket = this.options.socket;
          socket.cork();
          socket.write(dataHeader(core.discoveryKey, next.index, block.byteLength));
          const sent = new Promise<void>((resolve) => socket.write(block, () => resolve()));
          socket.uncork();
          await sent;
          this.options.onUpload(core, bytes);
        } catch {
          // The core went away or its file cannot be read: the requester asks another peer.
        } finally {
          blockPool.give(buffer);
        }
      }
    } finally {
      this.uploading = false;
    }
  }
}
