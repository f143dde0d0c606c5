import { execFileSync } from 'node:child_process';
import fs from 'node:fs';

/**
 * Mounts a tmpfs of `size` (`8m`) at `dir`, for full-disk tests. Needs Linux and root (CI runs
 * as root): anything else fails the test loudly rather than skipping it. Returns the unmount.
 */
export function mountTmpfs(dir: string, size: string): () => void {
  fs.mkdirSync(dir, { recursive: true });
  if (process.platform !== 'linux' || process.getuid?.() !== 0) {
    throw new Error(`full-disk tests mount a ${size} tmpfs and need Linux and root (uid ${process.getuid?.()}); run them as root, as CI does`);
  }
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { stdio: 'pipe' });
  return () => execFileSync('umount', ['-l', dir], { stdio: 'ignore' });
}
