import { z } from 'zod';

const units: Record<string, number> = { '': 1, B: 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 };

/** A size written `512M`, `2G`, `1.5T` or a bare number of bytes (powers of 1024), parsed to bytes. */
export const byteSize = z
  .string()
  .trim()
  .regex(/^\d+(\.\d+)?\s*([KMGT]i?B?|B)?$/i, 'must be a size such as 512M, 2G or a number of bytes')
  .transform((text) => {
    const match = /^(\d+(?:\.\d+)?)\s*([KMGT]?)/i.exec(text)!;
    return Math.round(Number(match[1]) * units[match[2]!.toUpperCase()]!);
  });

export function formatBytes(bytes: number): string {
  for (const [unit, size] of [['TiB', 1024 ** 4], ['GiB', 1024 ** 3], ['MiB', 1024 ** 2], ['KiB', 1024]] as const) {
    if (bytes >= size) return `${Number((bytes / size).toFixed(1))} ${unit}`;
  }
  return `${bytes} B`;
}
