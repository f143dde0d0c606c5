import fsp from 'node:fs/promises';

/** Bytes read from the end of a log for a failure reason: a few lines, never a whole log. */
const tailBytes = 2048;

/** The last `lines` non-empty lines of a file, joined with " | "; '' when it does not exist. */
export async function logTail(file: string, lines = 5): Promise<string> {
  let handle;
  try {
    handle = await fsp.open(file, 'r');
  } catch {
    return '';
  }
  try {
    const { size } = await handle.stat();
    const length = Math.min(size, tailBytes);
    const buffer = Buffer.alloc(length);
    await handle.read(buffer, 0, length, size - length);
    return buffer
      .toString('utf8')
      .split('\n')
      .map((line) => line.trim())
      .filter(Boolean)
      .slice(-lines)
      .join(' | ');
  } finally {
    await handle.close();
  }
}
