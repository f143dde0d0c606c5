import fs from 'node:fs';

/** What changes when a file is rewritten or replaced (size, mtime, inode); `missing` when it is gone. */
export function fileStamp(file: string): string {
  try {
    const stat = fs.statSync(file);
    return `${stat.size}:${stat.mtimeMs}:${stat.ino}`;
  } catch {
    return 'missing';
  }
}
