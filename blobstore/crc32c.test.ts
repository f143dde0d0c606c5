import { randomBytes } from 'node:crypto';
import { CRC32C } from '@google-cloud/storage';
import { describe, expect, it } from 'vitest';
import { Crc32c, crc32cBase64, crc32cUpdate } from './crc32c.ts';

describe('crc32c', () => {
  it('gives the standard check value and the values GCS documents', () => {
    expect(crc32cUpdate(0, Buffer.from('123456789')).toString(16)).toBe('e3069283');
    expect(crc32cBase64(crc32cUpdate(0, Buffer.alloc(0)))).toBe('AAAAAA==');
  });

  it('agrees with the client library on random data of every alignment, fed whole or in pieces', () => {
    for (const size of [1, 15, 16, 17, 255, 4096, 100_003]) {
      const data = randomBytes(size);
      const reference = new CRC32C();
      reference.update(data);
      const ours = new Crc32c();
      for (let at = 0; at < size; at += 7919) ours.update(data.subarray(at, Math.min(size, at + 7919)));
      expect(ours.toString()).toBe(reference.toString());
      expect(ours.validate(reference.toString())).toBe(true);
      // A slice that does not start on a 4-byte boundary of its buffer.
      expect(crc32cUpdate(0, data.subarray(1))).toBe(crc32cUpdate(0, Buffer.from(data.subarray(1))));
    }
  });
});
