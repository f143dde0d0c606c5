import { RotatingFile, type RotatingFileOptions } from './rotating-file.ts';

/**
 * Copies `input` (a pipe holding a process's stdout and stderr) into a RotatingFile until the
 * pipe's writers are all gone, then resolves. It never stops reading early: a failed write (a
 * full disk) drops that chunk, says so in the log once the disk takes writes again, and goes on,
 * because a reader that went away would kill the writing process with SIGPIPE.
 */
export async function copyToRotatingFile(input: AsyncIterable<Uint8Array>, options: RotatingFileOptions): Promise<{ bytes: number; droppedBytes: number }> {
  const log = new RotatingFile(options);
  let bytes = 0;
  let dropped = 0;
  for await (const chunk of input) {
    try {
      if (dropped > 0) {
        log.write(Buffer.from(`[fleetcast log-writer: ${dropped} bytes of output were lost: the log could not be written]\n`));
        dropped = 0;
      }
      log.write(chunk);
      bytes += chunk.length;
    } catch {
      log.close();
      dropped += chunk.length;
    }
  }
  log.close();
  return { bytes, droppedBytes: dropped };
}
