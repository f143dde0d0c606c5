import type { HypercorePeer, HypercoreRequest } from 'hypercore';
import type { RateLimiter } from '../limits/rate-limiter.ts';
import type { ArtifactCore } from './artifact-core.ts';
import { blockLength } from '../../goalstate/index.ts';

const gated = new WeakSet<HypercorePeer>();

/**
 * Puts a core's uploads behind the machine's upload limiter with bounded memory. Hypercore
 * answers a burst of requests by reading and queueing every block before the first one has
 * left (it checks that the connection is drained only when a request arrives), so a throttle on
 * the socket alone would buffer a peer's whole request window — 16 MiB per peer, a GiB for a
 * seeder with 64. Instead each peer's block requests are answered one at a time, each once the
 * limiter let its bytes pass and the connection sent the previous block: at most about one block
 * per peer is in memory, and a request cancelled before its turn at the limiter costs nothing.
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
  // The requests waiting for their turn, by id. The requester reuses an id once its request was
  // answered or cancelled, so a cancel counts only for the request waiting under that id now: a
  // remembered id of a request answered before its cancel arrived would drop a later request.
  const waiting = new Map<number, HypercoreRequest>();
  const closed = new AbortController();
  peer.stream.once('close', () => closed.abort(new Error('connection closed')));
  // This peer's block requests in arrival order: each takes its bytes from the limiter once the
  // previous one has its own, and is sent once the previous one left — the next block's wait for
  // the limiter overlaps the previous block's send, so a connection is never idle between them.
  let taken: Promise<void> = Promise.resolve();
  let sent: Promise<void> = Promise.resolve();

  peer.onrequest = (request: HypercoreRequest) => {
    if (!request.block) return onrequest.call(peer, request);
    const { id } = request;
    const bytes = blockLength(request.block.index, core.build.size);
    waiting.set(id, request);
    const tokens = taken.then(async () => {
      if (waiting.get(id) === request) await limiter.take(bytes, closed.signal);
    });
    const answer = Promise.all([tokens, sent]).then(async () => {
      if (waiting.get(id) !== request) return;
      waiting.delete(id);
      await onrequest.call(peer, request);
      await drained(peer, closed.signal);
    });
    taken = tokens.catch(() => undefined);
    sent = answer.catch(() => undefined);
    // Not returned: Protomux would count the wait as the channel's work in progress.
  };
  peer.oncancel = (message) => {
    waiting.delete(message.request);
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
