import { EventEmitter } from 'node:events';
import type { HypercorePeer, HypercoreRequest } from 'hypercore';
import { describe, expect, it } from 'vitest';
import { RateLimiter } from '../limits/rate-limiter.ts';
import type { ArtifactCore } from './artifact-core.ts';
import { gateUploads } from './upload-gate.ts';

// The gate's bookkeeping against Hypercore's request ids, which the requesting side reuses once
// a request was answered or cancelled (hypercore's InflightTracker). The real-peer behaviour is
// covered by test/p2p-fetch.test.ts; the id sequences below cannot be forced between real peers.
function gatedPeer() {
  const answered: number[] = [];
  const stream = new EventEmitter();
  const peer = {
    remotePublicKey: Buffer.alloc(32),
    stream,
    protomux: { drained: true },
    onrequest: (request: HypercoreRequest) => void answered.push(request.block!.index),
    oncancel: () => undefined,
  } as unknown as HypercorePeer;
  const hypercore = Object.assign(new EventEmitter(), { peers: [peer] });
  const core = { hypercore, build: { size: 8 << 20 } } as unknown as ArtifactCore;
  gateUploads(core, new RateLimiter(null));
  return { peer, answered };
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 20));

describe('gateUploads', () => {
  it('answers a request whose id was reused after a late cancel of the earlier one', async () => {
    const { peer, answered } = gatedPeer();
    peer.onrequest({ id: 1, block: { index: 0, nodes: 0 } });
    await settle();
    peer.oncancel({ request: 1 }); // arrives after block 0 was sent
    peer.onrequest({ id: 1, block: { index: 5, nodes: 0 } });
    await settle();
    expect(answered).toEqual([0, 5]);
  });

  it('drops a request cancelled while it waits for its turn, and answers the next one under the same id', async () => {
    const { peer, answered } = gatedPeer();
    (peer.protomux as { drained: boolean }).drained = false; // the first answer waits for a drain
    peer.onrequest({ id: 1, block: { index: 0, nodes: 0 } });
    peer.onrequest({ id: 2, block: { index: 1, nodes: 0 } });
    await settle();
    peer.oncancel({ request: 2 });
    peer.onrequest({ id: 2, block: { index: 3, nodes: 0 } });
    (peer.protomux as { drained: boolean }).drained = true;
    peer.stream.emit('drain');
    await settle();
    expect(answered).toEqual([0, 3]);
  });
});
