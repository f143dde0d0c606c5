import { FleetcastError } from '../errors/index.ts';

/** What `readLog` returns at most when the caller does not say. @defaultValue 1 MiB */
export const defaultLogChunkBytes = 1 << 20;
const maxLogChunkBytes = 16 << 20;

/** Checks `readLog` arguments; returns how many bytes to read at most. */
export function readLogOptions(name: string, fromOffset: number, maxBytes: number | undefined): number {
  if (!Number.isSafeInteger(fromOffset) || fromOffset < 0) {
    throw new FleetcastError('INVALID_INPUT', `cannot read log ${name} from offset ${fromOffset}: give a whole number of bytes >= 0`, { fromOffset });
  }
  const limit = maxBytes ?? defaultLogChunkBytes;
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > maxLogChunkBytes) {
    throw new FleetcastError('INVALID_INPUT', `maxBytes must be between 1 and ${maxLogChunkBytes}, got ${maxBytes}`, { maxBytes });
  }
  return limit;
}
