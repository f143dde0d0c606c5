/**
 * Cuts a byte stream into blocks of exactly `blockSize` bytes, the last one shorter. Each chunk
 * is copied once into the block being filled, so memory stays at one block plus one chunk
 * whatever the stream's length, and whatever chunk sizes the source (a bucket) delivers.
 */
export async function* fixedBlocks(source: AsyncIterable<Uint8Array>, blockSize: number): AsyncGenerator<Buffer> {
  let block = Buffer.allocUnsafe(blockSize);
  let filled = 0;
  for await (const chunk of source) {
    let offset = 0;
    while (offset < chunk.byteLength) {
      const n = Math.min(blockSize - filled, chunk.byteLength - offset);
      block.set(chunk.subarray(offset, offset + n), filled);
      filled += n;
      offset += n;
      if (filled === blockSize) {
        yield block;
        // A fresh block each time: the consumer (Hypercore's append) may still hold the last one.
        block = Buffer.allocUnsafe(blockSize);
        filled = 0;
      }
    }
  }
  if (filled > 0) yield block.subarray(0, filled);
}
