import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { FleetcastError } from '../errors/index.ts';

const sha256Pattern = /^[0-9a-f]{64}$/;

/**
 * Passes bytes through unchanged while counting and hashing them (sha256), so a store knows the
 * digest of what it wrote without a second read. Holds no data itself: memory stays at the
 * stream's highWaterMark whatever the object's size.
 */
export class DigestStream extends Transform {
  private readonly hash: Hash = createHash('sha256');
  private bytes = 0;
  private hex: string | undefined;

  constructor(options: { highWaterMark?: number } = {}) {
    super({ highWaterMark: options.highWaterMark });
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.hash.update(chunk);
    this.bytes += chunk.length;
    callback(null, chunk);
  }

  /** Bytes seen so far. */
  get size(): number {
    return this.bytes;
  }

  /** The sha256 of everything that passed; only once the stream has ended. */
  get sha256(): string {
    this.hex ??= this.hash.digest('hex');
    return this.hex;
  }
}

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

export function digestMismatch(
  what: string,
  expected: { sha256?: string; size?: number },
  actual: { sha256: string; size: number },
  hint = 'the bytes are not those expected; nothing was kept. Check the source and try again',
): FleetcastError {
  const parts: string[] = [];
  if (expected.sha256 !== undefined && expected.sha256 !== actual.sha256) {
    parts.push(`sha256 ${actual.sha256}, expected ${expected.sha256}`);
  }
  if (expected.size !== undefined && expected.size !== actual.size) parts.push(`${actual.size} bytes, expected ${expected.size}`);
  return new FleetcastError('DIGEST_MISMATCH', `${what}: ${parts.join('; ')}: ${hint}`, {
    expected,
    actual,
  });
}

export function validateSha256(sha256: string | undefined, field = 'sha256'): string | undefined {
  if (sha256 === undefined) return undefined;
  if (typeof sha256 !== 'string' || !sha256Pattern.test(sha256)) {
    throw new FleetcastError('INVALID_INPUT', `${field} "${sha256}" is not a sha256 digest (64 lower-case hex characters)`, {
      [field]: sha256,
    });
  }
  return sha256;
}
