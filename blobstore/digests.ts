import { FleetcastError } from '../errors/index.ts';

const sha256Pattern = /^[0-9a-f]{64}$/;

/** The error of bytes that are not those expected: says which digest or size differs, and what to do. */
export function digestMismatch(
  what: string,
  expected: { sha256?: string; size?: number },
  actual: { sha256: string; size: number },
  hint = 'the bytes are not those expected; nothing was kept. Check the source and try again',
): FleetcastError {
  const parts: string[] = [];
  if (expected.sha256 !== undefined && expected.sha256 !== actual.sha256) {
    parts.push(`sha256 ${actual.sha256}, expected ${expected.sha256}`);
  }
  if (expected.size !== undefined && expected.size !== actual.size) parts.push(`${actual.size} bytes, expected ${expected.size}`);
  return new FleetcastError('DIGEST_MISMATCH', `${what}: ${parts.join('; ')}: ${hint}`, {
    expected,
    actual,
  });
}

export function validateSha256(sha256: string | undefined, field = 'sha256'): string | undefined {
  if (sha256 === undefined) return undefined;
  if (typeof sha256 !== 'string' || !sha256Pattern.test(sha256)) {
    throw new FleetcastError('INVALID_INPUT', `${field} "${sha256}" is not a sha256 digest (64 lower-case hex characters)`, {
      [field]: sha256,
    });
  }
  return sha256;
}
