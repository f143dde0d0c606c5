import { coreBlockSize } from '../../goalstate/index.ts';
import { blockPool } from './block-pool.ts';

/**
 * The block protocol between two admitted peers, on their TLS connection. Every frame is
 * `length (u32) · type (u8) · discovery key of the core (32 bytes) · body`; the length counts
 * what follows it. A DATA frame's block is read straight into a pooled buffer.
 */
export const Frame = {
  /** I hold (part of) this core: flags (1: I have its tree) · bitfield. */
  OPEN: 1,
  /** I now hold block (u32). */
  HAVE: 2,
  /** Send me the core's signed tree. */
  WANT_TREE: 3,
  /** The signed tree (block-tree.ts encoding). */
  TREE: 4,
  /** Send me block (u32). */
  REQUEST: 5,
  /** Never mind block (u32). */
  CANCEL: 6,
  /** Block (u32) · its bytes. */
  DATA: 7,
  /** I no longer serve this core. */
  CLOSE: 8,
} as const;

export type FrameType = (typeof Frame)[keyof typeof Frame];

/** A received frame; `data` of a DATA frame is a pooled buffer the receiver must give back. */
export interface ReceivedFrame {
  type: FrameType;
  core: string;
  body: Buffer;
  index: number;
  data: Buffer | null;
}

const keyBytes = 32;
/** Frames other than DATA are small; anything larger is a broken or hostile peer. */
const maxControlFrame = 4 * 1024 * 1024;

export function encodeFrame(type: FrameType, core: Buffer, body: Buffer = Buffer.alloc(0)): Buffer {
  const frame = Buffer.allocUnsafe(4 + 1 + keyBytes + body.byteLength);
  frame.writeUInt32BE(1 + keyBytes + body.byteLength, 0);
  frame.writeUInt8(type, 4);
  core.copy(frame, 5);
  body.copy(frame, 5 + keyBytes);
  return frame;
}

export function indexBody(index: number): Buffer {
  const body = Buffer.allocUnsafe(4);
  body.writeUInt32BE(index, 0);
  return body;
}

/** The header of a DATA frame; the block's bytes follow it on the wire, written separately. */
export function dataHeader(core: Buffer, index: number, bytes: number): Buffer {
  const header = Buffer.allocUnsafe(4 + 1 + keyBytes + 4);
  header.writeUInt32BE(1 + keyBytes + 4 + bytes, 0);
  header.writeUInt8(Frame.DATA, 4);
  core.copy(header, 5);
  header.writeUInt32BE(index, 5 + keyBytes);
  return header;
}

/** Cuts a byte stream into frames without joining chunks: a block is copied once, into its pooled buffer. */
export class FrameReader {
  private head = Buffer.allocUnsafe(4 + 1 + keyBytes + 4);
  private headFilled = 0;
  private length = 0;
  private type = 0;
  private body: Buffer | null = null;
  private bodyFilled = 0;

  constructor(private readonly onFrame: (frame: ReceivedFrame) => void) {}

  push(chunk: Buffer): void {
    let offset = 0;
    while (offset < chunk.byteLength) {
      if (this.body === null) {
        // The fixed part: length, type, key (and a DATA frame's index).
        const want = this.headFilled < 5 ? 5 : this.type === Frame.DATA ? 5 + keyBytes + 4 : 5 + keyBytes;
        const n = Math.min(want - this.headFilled, chunk.byteLength - offset);
        chunk.copy(this.head, this.headFilled, offset, offset + n);
        this.headFilled += n;
        offset += n;
        if (this.headFilled === 5) {
          this.length = this.head.readUInt32BE(0);
          this.type = this.head.readUInt8(4);
          if (this.type < Frame.OPEN || this.type > Frame.CLOSE) throw new Error(`unknown frame type ${this.type}`);
          const bodyBytes = this.length - 1 - keyBytes - (this.type === Frame.DATA ? 4 : 0);
          if (bodyBytes < 0 || (this.type === Frame.DATA ? bodyBytes > coreBlockSize : bodyBytes > maxControlFrame)) throw new Error(`frame of ${this.length} bytes is out of bounds`);
          continue;
        }
        if (this.headFilled < want) continue;
        const bodyBytes = this.length - 1 - keyBytes - (this.type === Frame.DATA ? 4 : 0);
        this.body = this.type === Frame.DATA ? blockPool.take().subarray(0, bodyBytes) : Buffer.allocUnsafe(bodyBytes);
        this.bodyFilled = 0;
        if (bodyBytes > 0) continue;
      } else {
        const n = Math.min(this.body.byteLength - this.bodyFilled, chunk.byteLength - offset);
        chunk.copy(this.body, this.bodyFilled, offset, offset + n);
        this.bodyFilled += n;
        offset += n;
        if (this.bodyFilled < this.body.byteLength) continue;
      }
      this.emit();
    }
  }

  private emit(): void {
    const body = this.body!;
    const isData = this.type === Frame.DATA;
    const frame: ReceivedFrame = {
      type: this.type as FrameType,
      core: this.head.toString('hex', 5, 5 + keyBytes),
      body: isData ? Buffer.alloc(0) : body,
      index: isData ? this.head.readUInt32BE(5 + keyBytes) : body.byteLength >= 4 ? body.readUInt32BE(0) : -1,
      data: isData ? body : null,
    };
    this.body = null;
    this.headFilled = 0;
    this.onFrame(frame);
  }
}
