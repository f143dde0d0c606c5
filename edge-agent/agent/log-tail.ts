import fsp from 'node:fs/promises';

/** Bytes read from the end of a log for a failure reason: a few lines, never a whole log. */
const tailBytes = 2048;

/**
 * The last `lines` non-empty lines of a log, joined with " | "; '' when it does not exist. A
 * log rotated a moment ago has little in its file: the end of the one before (`<file>.1`) is
 * read too.
 */
export async function logTail(file: string, lines = 5): Promise<string> {
  const current = await fileTail(file, lines);
  if (current.split(' | ').filter(Boolean).length >= lines) return current;
  const previous = await fileTail(`${file}.1`, lines);
  return [previous, current].filter(Boolean).join(' | ').split(' | ').slice(-lines).join(' | ');
}

async function fileTail(file: string, lines: number): Promise<string> {
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
