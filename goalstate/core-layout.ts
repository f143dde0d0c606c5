import { coreBlockSize } from './core-key.ts';

/**
 * How an artifact of `size` bytes is cut into a core: blocks of `coreBlockSize` bytes, the last
 * one shorter, none empty. Every seeder cuts the same way, so independent seeders sign one tree.
 */
export function blockCount(size: number): number {
  return Math.ceil(size / coreBlockSize);
}

/** Bytes of block `index` of an artifact of `size` bytes. */
export function blockLength(index: number, size: number): number {
  return Math.min(coreBlockSize, size - index * coreBlockSize);
}
