import { FleetcastError } from '../errors/index.ts';
import type { ByteRange, PutOptions } from './blob-store.ts';
import { validateSha256 } from './digests.ts';

/** The metadata key a store keeps the sha256 under; callers cannot set it. */
export const sha256MetadataKey = 'sha256';

const metadataKeyPattern = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
const maxMetadataBytes = 8 * 1024;

export interface CheckedPutOptions {
  sha256: string | undefined;
  size: number | undefined;
  metadata: Record<string, string>;
}

export function checkPutOptions(options: PutOptions = {}): CheckedPutOptions {
  const sha256 = validateSha256(options.sha256);
  if (options.size !== undefined && (!Number.isSafeInteger(options.size) || options.size < 0)) {
    throw new FleetcastError('INVALID_INPUT', `size must be a whole number of bytes, got ${options.size}`, { size: options.size });
  }
  const metadata = { ...(options.metadata ?? {}) };
  for (const [key, value] of Object.entries(metadata)) {
    if (key === sha256MetadataKey) {
      throw new FleetcastError('INVALID_INPUT', `metadata key "${sha256MetadataKey}" is reserved: the store records the digest itself; pass it as the sha256 option`);
    }
    if (!metadataKeyPattern.test(key)) {
      throw new FleetcastError('INVALID_INPUT', `metadata key ${JSON.stringify(key)} must be 1 to 64 letters, digits, ".", "_" or "-"`, { key });
    }
    if (typeof value !== 'string') {
      throw new FleetcastError('INVALID_INPUT', `metadata value of "${key}" must be a string`, { key });
    }
  }
  if (Buffer.byteLength(JSON.stringify(metadata)) > maxMetadataBytes) {
    throw new FleetcastError('INVALID_INPUT', `metadata is larger than ${maxMetadataBytes} bytes as JSON; keep large data in an object of its own`);
  }
  return { sha256, size: options.size, metadata };
}

/**
 * Turns a caller's range into inclusive byte offsets within an object of `size` bytes, or null
 * for the whole object. `end` past the last byte is clamped, as HTTP does; a start past it is
 * an error rather than an empty read, which would hide an off-by-one in the caller.
 */
export function resolveRange(range: ByteRange | undefined, size: number, name: string): { start: number; end: number } | null {
  if (range === undefined || ((range.start ?? 0) === 0 && range.end === undefined)) return null;
  const start = range.start ?? 0;
  const end = range.end ?? size - 1;
  if (!Number.isSafeInteger(start) || start < 0 || !Number.isSafeInteger(end) || end < start) {
    throw new FleetcastError('INVALID_INPUT', `invalid byte range ${start}-${range.end ?? ''} of ${name}: need 0 <= start <= end (end is inclusive)`, {
      range,
    });
  }
  if (start >= size) {
    throw new FleetcastError('INVALID_INPUT', `byte range ${start}-${range.end ?? ''} starts past the end of ${name} (${size} bytes)`, {
      range,
      size,
    });
  }
  return { start, end: Math.min(end, size - 1) };
}
