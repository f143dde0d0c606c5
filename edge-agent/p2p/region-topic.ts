import { createHash } from 'node:crypto';
import hypercoreCrypto from 'hypercore-crypto';

/**
 * The Hyperswarm topic on which a region's peers of one core meet. Scoped to the region so
 * agents exchange blocks with machines of their own region only (cross-region links are the
 * slow, expensive ones), derived from the discovery key so the topic does not reveal the key.
 */
export function regionTopic(publicKey: Buffer, region: string): Buffer {
  const discoveryKey = Buffer.from(hypercoreCrypto.discoveryKey(publicKey));
  return createHash('sha256').update('fleetcast-topic-v1').update(region).update(discoveryKey).digest();
}
