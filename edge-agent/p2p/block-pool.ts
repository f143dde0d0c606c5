import { coreBlockSize } from '../../goalstate/index.ts';

/**
 * Block-sized buffers used again and again: a block received or sent borrows one and gives it
 * back, so a download does not allocate (and the garbage collector does not sweep) a MiB per
 * block. Buffers beyond `keep` are left to the collector.
 */
export class BlockPool {
  private readonly free: Buffer[] = [];

  constructor(private readonly keep = 24) {}

  take(): Buffer {
    return this.free.pop() ?? Buffer.allocUnsafeSlow(coreBlockSize);
  }

  /** Gives back a buffer from take() (or a view of one: a last, shorter block). */
  give(buffer: Buffer): void {
    if (this.free.length >= this.keep || buffer.buffer.byteLength !== coreBlockSize) return;
    this.free.push(Buffer.from(buffer.buffer, 0, coreBlockSize));
  }
}

/** One pool per process: uploads and downloads of every core share it. */
export const blockPool = new BlockPool();
