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
 * Cuts a stream into parts of `partSizeOf` bytes, each copied into a buffer of its own (the
 * part is kept until S3 has it, so it can be sent again). The last part may be shorter; an
 * empty stream gives one empty part. Memory: one part being filled; the caller decides how many
 * finished parts it keeps.
 */
export async function* partsOf(source: AsyncIterable<Uint8Array>, partSize: number): AsyncGenerator<Buffer> {
  let number = 1;
  let part = Buffer.allocUnsafeSlow(partSizeOf(number, partSize));
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
        part = Buffer.allocUnsafeSlow(partSizeOf(number, partSize));
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
