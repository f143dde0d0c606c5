import type { TransformCallback } from 'node:stream';
import { DigestStream } from './digest-stream.ts';
import { digestMismatch } from './digests.ts';

/**
 * A DigestStream that fails at its end with DIGEST_MISMATCH when what passed is not `expected`,
 * so a reader that pipes to completion learns the bytes were wrong before it trusts them.
 */
export class VerifyingStream extends DigestStream {
  constructor(
    private readonly expected: { sha256: string; size: number; what: string },
    options: { highWaterMark?: number } = {},
  ) {
    super(options);
  }

  override _flush(callback: TransformCallback): void {
    const { sha256, size, what } = this.expected;
    if (this.size !== size || this.sha256 !== sha256) {
      callback(digestMismatch(what, { sha256, size }, { sha256: this.sha256, size: this.size }));
      return;
    }
    callback();
  }
}
