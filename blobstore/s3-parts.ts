/** S3's smallest part (all but the last), and the most parts one upload may have. */
export const minPartSize = 5 * 1024 * 1024;
export const maxParts = 10_000;
/** The largest object CopyObject copies in one request; larger ones are copied part by part (UploadPartCopy). */
export const maxSingleCopyBytes = 5 * 1024 ** 3;

/**
 * The size of part `number` (1-based): `partSize` for the first 2,000 parts, doubling every 2,000
 * after that, so an upload of unknown length fits S3's 10,000 parts up to 62,000 × `partSize`
 * (484 GiB with 8 MiB parts) while small objects keep small parts.
 */
export function partSizeOf(number: number, partSize: number): number {
  return partSize * 2 ** Math.floor((number - 1) / 2_000);
}

/**
 * Part buffers handed back once S3 has them, to be filled again: an upload's memory stays at the
 * parts in flight instead of growing with garbage the collector has not reached yet.
 */
export class PartPool {
  private readonly free: Buffer[] = [];

  take(size: number): Buffer {
    const at = this.free.findIndex((buffer) => buffer.length === size);
    return at === -1 ? Buffer.allocUnsafeSlow(size) : this.free.splice(at, 1)[0]!;
  }

  /** Only whole buffers come back (a last, shorter part is a view of one and is let go). */
  give(buffer: Buffer): void {
    if (buffer.byteOffset === 0 && buffer.length === buffer.buffer.byteLength && this.free.length < 8) this.free.push(buffer);
  }
}

/**
 * Cuts a stream into parts of `partSizeOf` bytes, each copied into a buffer of its own (the
 * part is kept until S3 has it, so it can be sent again). The last part may be shorter; an
 * empty stream gives one empty part. Memory: one part being filled; the caller decides how many
 * finished parts it keeps, and gives their buffers back to `pool` once sent.
 */
export async function* partsOf(source: AsyncIterable<Uint8Array>, partSize: number, pool = new PartPool()): AsyncGenerator<Buffer> {
  let number = 1;
  let part = pool.take(partSizeOf(number, partSize));
  let filled = 0;
  for await (const chunk of source) {
    for (let offset = 0; offset < chunk.length; ) {
      const n = Math.min(part.length - filled, chunk.length - offset);
      part.set(chunk.subarray(offset, offset + n), filled);
      filled += n;
      offset += n;
      if (filled === part.length) {
        yield part;
        number += 1;
        part = pool.take(partSizeOf(number, partSize));
        filled = 0;
      }
    }
  }
  if (filled > 0 || number === 1) yield part.subarray(0, filled);
}

/** Byte ranges of at most `partSize` covering `size` bytes, for a copy part by part. */
export function copyRanges(size: number, partSize: number): { start: number; end: number }[] {
  const ranges: { start: number; end: number }[] = [];
  for (let start = 0; start < size; start += partSize) ranges.push({ start, end: Math.min(size, start + partSize) - 1 });
  return ranges;
}
