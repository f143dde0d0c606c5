import { randomUUID } from 'node:crypto';
import fsp from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '../logging/index.ts';

/**
 * Temporary files carry the writer's pid, so a store opening a bucket can tell the leftovers
 * of a crashed writer (its process is gone) from the files of a live writer in another
 * process sharing the bucket (`fleetcast up` runs several).
 */
export function tempFileName(suffix = 'tmp'): string {
  return `${process.pid}-${randomUUID()}.${suffix}`;
}

/** Removes temp files whose writer died, or that nobody touched for `maxAgeMs`. Returns how many. */
export async function removeAbandonedTempFiles(dir: string, options: { maxAgeMs: number; logger: Logger }): Promise<number> {
  let removed = 0;
  const entries = await fsp.readdir(dir).catch(() => [] as string[]);
  for (const entry of entries) {
    const file = path.join(dir, entry);
    const pid = Number(/^(\d+)-/.exec(entry)?.[1]);
    const stat = await fsp.stat(file).catch(() => undefined);
    if (!stat) continue;
    const writerGone = Number.isSafeInteger(pid) && pid !== process.pid && !processAlive(pid);
    const stale = Date.now() - stat.mtimeMs > options.maxAgeMs;
    if (!writerGone && !stale) continue;
    await fsp.rm(file, { force: true, recursive: true });
    removed += 1;
  }
  if (removed > 0) options.logger.info({ dir, removed }, 'removed temporary files of interrupted writes');
  return removed;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
