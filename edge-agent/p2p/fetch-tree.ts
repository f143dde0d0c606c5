import type { ArtifactCore } from './artifact-core.ts';
import { BlockTree } from './block-tree.ts';
import type { BlockSession, CoreDownloader } from './block-session.ts';
import type { RegionSwarm } from './region-swarm.ts';

/** A peer that was asked for the tree and did not answer is asked again after this long (another may answer). */
const askAgainMs = 2_000;

/**
 * Gets the core's signed tree from the first admitted peer that has it, checked against the
 * build's key and size; a peer sending a tree that does not verify is dropped and refused. Waits
 * (until `signal` aborts) while no peer has it.
 */
export function fetchTree(core: ArtifactCore, swarm: RegionSwarm, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const attached = new Set<BlockSession>();
    const askedAt = new Map<BlockSession, number>();
    let done = false;
    const finish = (err?: unknown) => {
      if (done) return;
      done = true;
      clearInterval(timer);
      stop();
      signal.removeEventListener('abort', onAbort);
      for (const session of attached) session.detach(core);
      if (err) reject(err);
      else resolve();
    };
    const onAbort = () => finish(signal.reason);
    const downloader: CoreDownloader = {
      onTree: (session, encoded) => {
        if (done) return;
        const tree = BlockTree.verified(encoded, core.build.size, Buffer.from(core.build.p2pKey, 'hex'));
        if (!tree) {
          swarm.reject(session.peer, core, 'INVALID_SIGNATURE', 'its tree is not signed by the build key, or not of the build size');
          return ask();
        }
        core.setTree(tree).then(() => finish(), finish);
      },
      onData: () => undefined,
      onChange: () => ask(),
    };
    const ask = () => {
      if (done) return;
      for (const session of swarm.blockSessions()) {
        if (!attached.has(session)) {
          attached.add(session);
          session.attach(core, downloader);
        }
        const remote = session.remote(core);
        const last = askedAt.get(session);
        if (remote?.hasTree && (last === undefined || performance.now() - last > askAgainMs)) {
          askedAt.set(session, performance.now());
          session.wantTree(core);
        }
      }
    };
    const stop = swarm.onSessions(ask);
    const timer = setInterval(ask, askAgainMs);
    timer.unref();
    if (signal.aborted) return finish(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    ask();
  });
}
