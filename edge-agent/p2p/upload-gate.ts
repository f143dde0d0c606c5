import type { HypercorePeer, HypercoreRequest } from 'hypercore';
import type { RateLimiter } from '../limits/rate-limiter.ts';
import type { ArtifactCore } from './artifact-core.ts';
import { blockLength } from './core-layout.ts';

const gated = new WeakSet<HypercorePeer>();

/**
 * Puts a core's uploads behind the machine's upload limiter with bounded memory. Hypercore
 * answers a burst of requests by reading and queueing every block before the first one has
 * left (it checks that the connection is drained only when a request arrives), so a throttle on
 * the socket alone would buffer a peer's whole request window — 16 MiB per peer, a GiB for a
 * seeder with 64. Instead each peer's block requests are answered one at a time, each once the
 * limiter let its bytes pass and the connection sent the previous block: at most about one block
 * per peer is in memory, and a request cancelled while it waits costs nothing.
 *
 * It wraps the `onrequest`/`oncancel` handlers of Hypercore's replicator peers (internal to
 * hypercore 11; see holepunch-modules.d.ts).
 */
export function gateUploads(core: ArtifactCore, limiter: RateLimiter): () => void {
  const onPeer = (peer: HypercorePeer) => gatePeer(peer, core, limiter);
  for (const peer of core.hypercore.peers) onPeer(peer);
  core.hypercore.on('peer-add', onPeer);
  return () => core.hypercore.off('peer-add', onPeer);
}

function gatePeer(peer: HypercorePeer, core: ArtifactCore, limiter: RateLimiter): void {
  if (gated.has(peer)) return;
  gated.add(peer);
  const onrequest = peer.onrequest;
  const oncancel = peer.oncancel;
  // Requests waiting for their turn, by id, and those the remote withdrew while they waited.
  // A cancel names a request by id, and Hypercore reuses an id once the cancel made its round
  // trip: a cancel remembered by id alone (say, one that arrived after its request was answered)
  // would silently drop the next request given that id, and the peer waiting for it would stall.
  const waiting = new Map<number, HypercoreRequest>();
  const cancelled = new WeakSet<HypercoreRequest>();
  const closed = new AbortController();
  peer.stream.once('close', () => closed.abort(new Error('connection closed')));
  // One block request of this peer at a time, in arrival order.
  let turn: Promise<void> = Promise.resolve();

  peer.onrequest = (request: HypercoreRequest) => {
    if (!request.block) return onrequest.call(peer, request);
    const { id } = request;
    const bytes = blockLength(request.block.index, core.build.size);
    waiting.set(id, request);
    const answer = turn.then(async () => {
      try {
        if (cancelled.has(request)) return;
        await limiter.take(bytes, closed.signal);
        if (cancelled.has(request)) return;
        if (waiting.get(id) === request) waiting.delete(id);
        await onrequest.call(peer, request);
        await drained(peer, closed.signal);
      } finally {
        if (waiting.get(id) === request) waiting.delete(id);
      }
    });
    turn = answer.catch(() => undefined);
    // Not returned: Protomux would count the wait as the channel's work in progress.
  };
  peer.oncancel = (message) => {
    // Only a request still waiting here is withdrawn; one answered already is Hypercore's to cancel.
    const request = waiting.get(message.request);
    if (request) {
      cancelled.add(request);
      waiting.delete(message.request);
    }
    return oncancel.call(peer, message);
  };
}

function drained(peer: HypercorePeer, signal: AbortSignal): Promise<void> {
  if (peer.protomux.drained || signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      peer.stream.off('drain', done);
      signal.removeEventListener('abort', done);
      resolve();
    };
    peer.stream.on('drain', done);
    signal.addEventListener('abort', done, { once: true });
  });
}
