import type { RateLimiter } from '../limits/rate-limiter.ts';
import type { ArtifactCore } from './artifact-core.ts';
import { BlockPicker, type BlockHolder } from './block-picker.ts';
import { blockPool } from './block-pool.ts';
import type { BlockSession, CoreDownloader } from './block-session.ts';
import type { RegionSwarm } from './region-swarm.ts';
import { blockLength } from '../../goalstate/index.ts';

export interface BlockDownloadOptions {
  /** The machine's download cap: a block is requested only once the limiter lets its bytes pass. */
  limiter: RateLimiter;
  /** Blocks requested at once. @defaultValue 8 (defaultWindow) */
  window?: number;
  /** Requests in flight to one peer at most. @defaultValue 2 */
  perPeer?: number;
  /** A request unanswered this long is cancelled and the block asked of another peer. @defaultValue 10 s */
  stuckRequestMs?: number;
  signal: AbortSignal;
  /** Each block that arrived from a peer and was stored, with its bytes (pooled: valid only during the call). */
  onBlock: (index: number, data: Buffer) => void;
}

/**
 * Blocks in flight at once, requested or received and not yet written. Each sits in the
 * machine's memory between its arrival and its write: 8 MiB in flight still fills a 10 Gbit/s
 * link at a 6 ms round trip.
 */
export const defaultWindow = 8;

/** Requests in flight to one peer. A peer asked for more parks requests its neighbours could serve. */
const defaultPerPeer = 2;

export const stuckRequestMs = 10_000;

interface Asked {
  session: BlockSession;
  at: number;
}

/**
 * Downloads the blocks the core lacks from the swarm's admitted peers, checking each against
 * the core's signed tree before it is written (a peer sending a block that does not match is
 * dropped and refused), in the order BlockPicker chooses: what a peer can serve now, so that the
 * machines of a region serve each other and the seeders send what the region lacks. Resolves
 * once every block is held.
 */
export function downloadBlocks(core: ArtifactCore, swarm: RegionSwarm, options: BlockDownloadOptions): Promise<void> {
  const tree = core.tree!;
  const window = options.window ?? defaultWindow;
  const perPeer = options.perPeer ?? defaultPerPeer;
  const stuckMs = options.stuckRequestMs ?? stuckRequestMs;
  const missing: number[] = [];
  for (let index = 0; index < core.blocks; index++) if (!core.have.get(index)) missing.push(index);
  const picker = new BlockPicker(missing);
  const asked = new Map<number, Asked>();
  /** Peers a block was already asked of in vain (stuck there). */
  const avoid = new Map<number, Set<BlockSession>>();
  let taking = false;
  let writes = Promise.resolve();
  /**
   * Blocks received and waiting for their write. They count against the window: when blocks
   * arrive faster than the disk takes them (dirty-page throttling), new requests would pile
   * blocks up in memory without end (2 GiB uncapped over loopback: 756 MiB peak RSS).
   */
  let unwritten = 0;

  return new Promise<void>((resolve, reject) => {
    const attached = new Set<BlockSession>();
    let done = false;
    const finish = (err?: unknown) => {
      if (done) return;
      done = true;
      clearInterval(stuckTimer);
      stopSessions();
      options.signal.removeEventListener('abort', onAbort);
      for (const [index, request] of asked) request.session.cancel(core, index);
      for (const session of attached) session.detach(core);
      if (err) reject(err);
      else resolve();
    };
    const onAbort = () => finish(options.signal.reason);
    const downloader: CoreDownloader = {
      onTree: () => undefined,
      onData: (session, index, data) => {
        const request = asked.get(index);
        if (!request || request.session !== session) return blockPool.give(data);
        asked.delete(index);
        if (!tree.holds(index, data)) {
          blockPool.give(data);
          swarm.reject(session.peer, core, 'INVALID_CHECKSUM', `block ${index} does not match the signed tree`);
          picker.giveBack(index);
          return pump();
        }
        unwritten++;
        writes = writes.then(async () => {
          try {
            await core.writeBlock(index, data);
            options.onBlock(index, data);
          } finally {
            blockPool.give(data);
            unwritten--;
          }
          if (core.have.complete) finish();
          else pump();
        });
        writes.catch((err: unknown) => finish(err));
        pump();
      },
      onChange: () => pump(),
    };
    const attachAll = () => {
      for (const session of swarm.blockSessions()) {
        if (attached.has(session)) continue;
        attached.add(session);
        session.attach(core, downloader);
      }
      // A closed session's requests go to the others.
      for (const [index, request] of asked) {
        if (!request.session.isClosed) continue;
        asked.delete(index);
        picker.giveBack(index);
      }
      pump();
    };
    const stopSessions = swarm.onSessions(attachAll);
    // Each peer's requests are watched: a silent or very slow peer's block goes to another.
    const stuckTimer = setInterval(() => {
      const now = performance.now();
      for (const [index, request] of asked) {
        if (now - request.at < stuckMs) continue;
        asked.delete(index);
        request.session.cancel(core, index);
        const tried = avoid.get(index) ?? new Set<BlockSession>();
        tried.add(request.session);
        avoid.set(index, tried);
        picker.giveBack(index);
      }
      pump();
    }, Math.max(100, stuckMs / 4));
    stuckTimer.unref();

    function holders(): (BlockHolder & { session: BlockSession })[] {
      const list: (BlockHolder & { session: BlockSession })[] = [];
      for (const session of swarm.blockSessions()) {
        const remote = session.remote(core);
        if (!remote) continue;
        list.push({ session, complete: remote.complete(core.blocks), has: (index) => remote.has(index) && !avoid.get(index)?.has(session), inflight: session.inflight(core), maxInflight: perPeer });
      }
      return list;
    }

    // Requests go out while the window has room, each once the limiter let its bytes pass.
    function pump(): void {
      if (done || taking || options.signal.aborted || asked.size + unwritten >= window || picker.remaining === 0) return;
      const peers = holders();
      const index = picker.pick(peers);
      if (index === null) return;
      // A neighbour still downloading serves what it holds; a complete peer (a seeder) what no neighbour holds.
      const free = peers.filter((peer) => peer.has(index) && peer.inflight < peer.maxInflight);
      const neighbours = free.filter((peer) => !peer.complete);
      const holder = neighbours.length > 0 ? neighbours[Math.floor(Math.random() * neighbours.length)] : free[Math.floor(Math.random() * free.length)];
      if (!holder) {
        picker.giveBack(index);
        return;
      }
      taking = true;
      options.limiter.take(blockLength(index, core.build.size), options.signal).then(
        () => {
          taking = false;
          if (holder.session.isClosed) picker.giveBack(index);
          else {
            asked.set(index, { session: holder.session, at: performance.now() });
            holder.session.request(core, index);
          }
          pump();
        },
        () => {
          taking = false;
          picker.giveBack(index);
        },
      );
    }

    if (options.signal.aborted) return finish(options.signal.reason);
    options.signal.addEventListener('abort', onAbort, { once: true });
    if (core.have.complete) return finish();
    attachAll();
  });
}
