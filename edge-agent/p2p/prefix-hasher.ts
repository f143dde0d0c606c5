import { createHash, type Hash } from 'node:crypto';
import type { ArtifactCore } from './artifact-core.ts';
import { blockPool } from './block-pool.ts';

/**
 * The whole file's sha256, computed as the prefix of held blocks grows: a block that arrives
 * in order is hashed from memory as it arrives; blocks held out of order (or before a restart)
 * are read back from the file when the prefix reaches them — from the page cache, not the disk,
 * on a running fetch. The digest is ready when the last block lands.
 */
export class PrefixHasher {
  private readonly hash: Hash = createHash('sha256');
  private next = 0;
  private reading: Promise<void> = Promise.resolve();
  private busy = false;

  constructor(private readonly core: ArtifactCore) {
    this.catchUp();
  }

  /** A block was stored; `data` is valid only during the call. */
  arrived(index: number, data: Buffer): void {
    if (!this.busy && index === this.next) {
      this.hash.update(data);
      this.next++;
    }
    this.catchUp();
  }

  /** The file's sha256 once every block is held and hashed. */
  async digest(): Promise<string> {
    this.catchUp();
    await this.reading;
    if (this.next !== this.core.blocks) throw new Error(`the sha256 reached block ${this.next} of ${this.core.blocks}`);
    return this.hash.digest('hex');
  }

  private catchUp(): void {
    if (this.busy || !this.core.have.get(this.next)) return;
    this.busy = true;
    this.reading = (async () => {
      const buffer = blockPool.take();
      try {
        while (this.next < this.core.blocks && this.core.have.get(this.next)) {
          this.hash.update(await this.core.readBlock(this.next, buffer));
          this.next++;
        }
      } finally {
        blockPool.give(buffer);
        this.busy = false;
      }
    })();
    this.reading.catch(() => undefined);
  }
}
