import type Hypercore from 'hypercore';
import type { DownloadRange } from 'hypercore';
import type { RateLimiter } from '../limits/rate-limiter.ts';

export interface BlockDownloadOptions {
  /** Blocks of the artifact (the core's full length). */
  count: number;
  /** Bytes of block `index`. */
  lengthOf: (index: number) => number;
  /** The machine's download cap: a block is requested only once the limiter lets its bytes pass. */
  limiter: RateLimiter;
  /** Blocks requested from peers ahead of the reader. @defaultValue 16 */
  window?: number;
  signal: AbortSignal;
  /** The blocks that will be fetched (the others are stored already), before any request goes out. */
  onPlan?: (missing: readonly number[]) => void;
  /** Each block that arrived from a peer (not those already stored), as it arrives, in any order. */
  onFetched?: (index: number, bytes: number) => void;
}

/** One block the reader is given, in order. */
export interface OrderedBlock {
  index: number;
  data: Buffer;
  /** false: it was stored already (a resumed fetch), not fetched now. */
  fetched: boolean;
}

/**
 * Yields every block of `core` in order, requesting the ones it lacks from the core's peers
 * (Hypercore picks which peer serves which block and verifies each against the signed tree).
 * Requests go out in a random order within stretches of 64 blocks, so the machines of a region
 * fetch different blocks first and can serve each other; the reader still gets the blocks in
 * order, as the prefix it can read grows. The download cap is enforced by the receiver: at most
 * `window` blocks are requested at once, and each only after the limiter let its bytes pass — so
 * no peer ever sends more than asked. Blocks land in the core's storage, not in memory; the reader gets one at a time.
 */
export async function* blocksInOrder(core: Hypercore, options: BlockDownloadOptions): AsyncGenerator<OrderedBlock> {
  const { count, signal } = options;
  const window = options.window ?? 16;
  const missing: number[] = [];
  for (let index = core.contiguousLength; index < count; index++) {
    if (!(await core.has(index))) missing.push(index);
  }
  options.onPlan?.(missing);
  const arrivals = new Map<number, Promise<void>>();
  const wanted = new Set(missing);
  const ranges = new Set<DownloadRange>();
  const requester = new Requester(window);
  const aborted = new Promise<never>((_, reject) => {
    if (signal.aborted) reject(signal.reason);
    signal.addEventListener('abort', () => reject(signal.reason), { once: true });
  });
  aborted.catch(() => undefined);

  // The requests run ahead of the reader, paced by the limiter and the window, in an order of
  // this machine's own: machines that all asked for block 0, then 1, … would all wait on the
  // seeder for the same block and have nothing to give each other (rarest-first, roughly).
  // Shuffled within stretches of the file, not across all of it: with a random order over the
  // whole file the prefix the reader can write completes only near the end, and the whole file
  // was then read back, written and hashed after the last block (a minute for 512 MiB on a busy
  // 2-core machine, with the download finished).
  const requesting = (async () => {
    for (const index of shuffledInStretches(missing, orderStretch)) {
      await Promise.race([requester.slot(), aborted]);
      await options.limiter.take(options.lengthOf(index), signal);
      const range = core.download({ start: index, end: index + 1 });
      ranges.add(range);
      const arrival = range.done().then(
        () => options.onFetched?.(index, options.lengthOf(index)),
      ).finally(() => {
        ranges.delete(range);
        requester.release();
      });
      arrival.catch(() => undefined);
      arrivals.set(index, arrival);
      requester.requested(index);
    }
  })();
  requesting.catch(() => undefined);

  try {
    for (let index = 0; index < count; index++) {
      // An abort wins even when the next blocks are all here already.
      signal.throwIfAborted();
      const fetched = wanted.has(index);
      if (fetched) {
        await Promise.race([requester.whenRequested(index), aborted]);
        await Promise.race([arrivals.get(index)!, aborted]);
        arrivals.delete(index);
      }
      const data = await core.get(index, { wait: false });
      if (data === null) throw new Error(`block ${index} of core ${core.key.toString('hex')} is missing from its storage after it was stored`);
      yield { index, data, fetched };
    }
  } finally {
    for (const range of ranges) range.destroy();
    ranges.clear();
    requester.stop();
  }
}

/** Counts blocks in flight against the window and tells the reader when a block was requested. */
class Requester {
  private inFlight = 0;
  private readonly requestedBlocks = new Set<number>();
  private waitingForSlot: (() => void) | undefined;
  private readonly waitingForRequest = new Map<number, () => void>();
  private stopped = false;

  constructor(private readonly window: number) {}

  slot(): Promise<void> {
    if (this.inFlight < this.window || this.stopped) return Promise.resolve();
    return new Promise((resolve) => (this.waitingForSlot = resolve));
  }

  requested(index: number): void {
    this.inFlight++;
    this.requestedBlocks.add(index);
    this.waitingForRequest.get(index)?.();
    this.waitingForRequest.delete(index);
  }

  release(): void {
    this.inFlight--;
    const wake = this.waitingForSlot;
    this.waitingForSlot = undefined;
    wake?.();
  }

  whenRequested(index: number): Promise<void> {
    if (this.requestedBlocks.has(index)) return Promise.resolve();
    return new Promise((resolve) => this.waitingForRequest.set(index, resolve));
  }

  stop(): void {
    this.stopped = true;
    this.waitingForSlot?.();
  }
}

/** Blocks shuffled together: enough for the machines of a region to hold different ones. */
const orderStretch = 64;

/** `indexes` cut into consecutive stretches of `stretch`, each shuffled, in order. */
export function shuffledInStretches(indexes: number[], stretch: number): number[] {
  const result: number[] = [];
  for (let start = 0; start < indexes.length; start += stretch) result.push(...shuffled(indexes.slice(start, start + stretch)));
  return result;
}

/** A random permutation (Fisher–Yates). */
function shuffled(indexes: number[]): number[] {
  const result = [...indexes];
  for (let i = result.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [result[i], result[j]] = [result[j]!, result[i]!];
  }
  return result;
}
