import { describe, expect, it } from 'vitest';
import { coreKey, coreKeyPair } from './core-key.ts';

const secret = 'a'.repeat(64);
const digest = 'b'.repeat(64);

describe('core keys', () => {
  it('derives the same key pair for the same secret and digest, so independent seeders sign one core', () => {
    expect(coreKeyPair(secret, digest).secretKey.equals(coreKeyPair(secret, digest).secretKey)).toBe(true);
    expect(coreKey(secret, digest)).toMatch(/^[0-9a-f]{64}$/);
  });

  it('gives another key for another digest or another secret', () => {
    expect(coreKey(secret, 'c'.repeat(64))).not.toBe(coreKey(secret, digest));
    expect(coreKey('z'.repeat(64), digest)).not.toBe(coreKey(secret, digest));
  });
});
