import { EventEmitter } from 'node:events';
import type { HypercorePeer, HypercoreRequest } from 'hypercore';
import { expect, it } from 'vitest';
import { RateLimiter } from '../limits/rate-limiter.ts';
import type { ArtifactCore } from './artifact-core.ts';
import { gateUploads } from './upload-gate.ts';

/** A core with one remote peer whose answers and cancels are recorded, as Hypercore's replicator would see them. */
function gatedPeer() {
  const answered: number[] = [];
  const cancels: number[] = [];
  const peer = {
    remotePublicKey: Buffer.alloc(32),
    stream: new EventEmitter(),
    protomux: { drained: true },
    onrequest: async (request: HypercoreRequest) => void answered.push(request.block!.index),
    oncancel: (message: { request: number }) => void cancels.push(message.request),
  };
  const hypercore = Object.assign(new EventEmitter(), { peers: [peer] });
  const core = { hypercore, build: { size: 10 * 1024 * 1024 } } as unknown as ArtifactCore;
  gateUploads(core, new RateLimiter(null));
  const gated = peer as unknown as HypercorePeer;
  const request = (id: number, index: number) => gated.onrequest({ id, block: { index, nodes: 0 } });
  const settle = () => new Promise((resolve) => setTimeout(resolve, 20));
  return { gated, request, settle, answered, cancels };
}

it('a cancel that arrives after its request was answered does not drop the next request reusing that id', async () => {
  const { gated, request, settle, answered, cancels } = gatedPeer();
  request(1, 0);
  await settle();
  expect(answered).toEqual([0]);
  // The remote withdrew request 1 while block 0 was on its way, then reused id 1 (Hypercore
  // frees an id once the cancel made its round trip).
  gated.oncancel({ request: 1 });
  request(1, 5);
  await settle();
  expect(answered).toEqual([0, 5]);
  expect(cancels).toEqual([1]);
});

it('a request cancelled while it waits for its turn is not answered; the others are, in order', async () => {
  const { gated, request, settle, answered } = gatedPeer();
  request(1, 0);
  request(2, 1);
  request(3, 2);
  gated.oncancel({ request: 2 });
  await settle();
  expect(answered).toEqual([0, 2]);
});
