import type Hypercore from 'hypercore';

/** Pause between asks when no peer is connected yet; peers arriving wake the wait at once. */
const idlePollMs = 250;

/**
 * Waits until the core knows its signed length is at least `blocks`: a replica learns it from
 * the first peer that proves it (Hypercore checks the signature), a resumed one has it stored.
 */
export async function waitForLength(core: Hypercore, blocks: number, signal: AbortSignal): Promise<void> {
  while (core.length < blocks) {
    signal.throwIfAborted();
    if (core.peers.length > 0) {
      await abortable(core.update({ wait: true }), signal);
      if (core.length >= blocks) return;
    }
    await nextEvent(core, signal);
  }
}

function nextEvent(core: Hypercore, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const cleanUp = () => {
      clearTimeout(timer);
      core.off('peer-add', done);
      core.off('append', done);
      signal.removeEventListener('abort', onAbort);
    };
    const done = () => {
      cleanUp();
      resolve();
    };
    const onAbort = () => {
      cleanUp();
      reject(signal.reason);
    };
    const timer = setTimeout(done, idlePollMs);
    core.on('peer-add', done);
    core.on('append', done);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err);
      },
    );
  });
}
