import { describe, expect, it } from 'vitest';
import { coreKeyPair } from '../../goalstate/index.ts';
import { regionTopic } from './region-topic.ts';

const secret = 'a'.repeat(64);
const digest = 'b'.repeat(64);

describe('region topics', () => {
  it('scopes the swarm topic to the region', () => {
    const { publicKey } = coreKeyPair(secret, digest);
    expect(regionTopic(publicKey, 'eu').equals(regionTopic(publicKey, 'eu'))).toBe(true);
    expect(regionTopic(publicKey, 'eu').equals(regionTopic(publicKey, 'us'))).toBe(false);
  });
});
