import type Hypercore from 'hypercore';
import { FleetcastError } from '../../errors/index.ts';

/**
 * A request Hypercore may duplicate to another peer ("hotswap") only once it is this old: its
 * peer is too slow, gone silent, or lying.
 */
export const stuckRequestMs = 10_000;

interface InflightRequest {
  timestamp: number;
}
interface HotswapBlock {
  inflight: InflightRequest[];
}
interface HotswapQueue {
  pick(peer: unknown): Iterable<HotswapBlock>;
}
interface Replicator {
  hotswaps: HotswapQueue;
  peers: unknown[];
  updatePeer(peer: unknown): void;
}

/**
 * Hypercore duplicates requests still in flight to any peer that has a free slot and holds the
 * block (up to 16 per peer), whatever their age. A seeder holds every block, so it was sent
 * most requests of its region twice — 90–175 duplicates per 128 blocks per machine in bench/p2p,
 * its egress 1.5 × the file and its slots taken from blocks nobody else had. Here only a
 * request in flight for `stuckMs` is duplicated: a stalled peer is still worked around.
 *
 * Hypercore looks for duplicates only when a peer sent something, so a request can age past
 * `stuckMs` with every other peer idle: while the core lacks blocks, each peer is looked at
 * again every quarter of it.
 *
 * It wraps the replicator's hotswap queue (internal to hypercore 11).
 */
export function duplicateOnlyStuckRequests(core: Hypercore, stuckMs = stuckRequestMs): void {
  const replicator = (core as unknown as { replicator: Partial<Replicator> | undefined }).replicator;
  if (typeof replicator?.hotswaps?.pick !== 'function' || typeof replicator.updatePeer !== 'function' || !Array.isArray(replicator.peers)) {
    // The internals this relies on moved: a hypercore other than the version package.json pins.
    throw new FleetcastError('INTERNAL', 'this hypercore has no replicator hotswap queue where fleetcast expects one; install the hypercore version package.json pins (npm ci)');
  }
  const queue = replicator.hotswaps;
  const pick = queue.pick.bind(queue);
  queue.pick = function* (peer: unknown) {
    const now = Date.now();
    for (const block of pick(peer)) {
      if (block.inflight.every((request) => now - request.timestamp >= stuckMs)) yield block;
    }
  };
  const live = replicator as Replicator;
  const nudge = setInterval(() => {
    // A core that holds every block requests nothing (a seeder's, a cached build's).
    if (core.length > 0 && core.contiguousLength === core.length) return;
    for (const peer of [...live.peers]) live.updatePeer(peer);
  }, Math.max(100, stuckMs / 4));
  nudge.unref();
  core.on('close', () => clearInterval(nudge));
}
