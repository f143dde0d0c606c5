import fsp from 'node:fs/promises';
import { formatBytes } from '../../config/index.ts';
import { FleetcastError } from '../../errors/index.ts';

/** Bytes that must fit under a folder. */
export interface SpaceNeed {
  dir: string;
  bytes: number;
}

/**
 * Room a core's storage takes beyond its blocks (RocksDB files, the Merkle tree), as a share of
 * the blocks plus a floor; measured here at well under 1 %.
 */
const overheadShare = 0.02;
const overheadFloor = 16 * 1024 * 1024;

export function withStorageOverhead(bytes: number): number {
  return bytes === 0 ? 0 : Math.ceil(bytes * (1 + overheadShare)) + overheadFloor;
}

/** Free bytes for an unprivileged writer on the filesystem holding `dir`. */
export async function freeBytes(dir: string): Promise<number> {
  const stats = await fsp.statfs(dir);
  return stats.bavail * stats.bsize;
}

/**
 * Fails with DISK_FULL, before anything is written, when the needs do not fit; needs on the same
 * filesystem add up. A fetch that cannot finish should say so at once rather than after hours.
 */
export async function ensureSpace(needs: SpaceNeed[], what: string): Promise<void> {
  const byDevice = new Map<number, { dirs: string[]; bytes: number }>();
  for (const need of needs) {
    await fsp.mkdir(need.dir, { recursive: true });
    const { dev } = await fsp.stat(need.dir);
    const entry = byDevice.get(dev) ?? { dirs: [], bytes: 0 };
    entry.dirs.push(need.dir);
    entry.bytes += need.bytes;
    byDevice.set(dev, entry);
  }
  for (const { dirs, bytes } of byDevice.values()) {
    const free = await freeBytes(dirs[0]!);
    if (free < bytes) throw diskFull(dirs.join(' and '), `${what} needs ${formatBytes(bytes)} there, ${formatBytes(free)} are free`, { needed: bytes, free });
  }
}

export function diskFull(place: string, problem: string, details: Record<string, unknown> = {}, cause?: unknown): FleetcastError {
  return new FleetcastError(
    'DISK_FULL',
    `not enough disk space on the disk holding ${place}: ${problem}. Free space there (old builds are removed by the agent's cache limit) or give the agent a larger disk, then retry`,
    { path: place, ...details },
    cause === undefined ? undefined : { cause },
  );
}

/** Whether an error from the filesystem or from the core's storage (RocksDB) means a full disk. */
export function isDiskFull(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  if (code === 'ENOSPC' || code === 'EDQUOT') return true;
  return err instanceof Error && /no space left on device|disk quota exceeded/i.test(err.message);
}
