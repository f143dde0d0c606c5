import { humanDuration } from '../../config/index.ts';
import { FleetcastError } from '../../errors/index.ts';
import { diskFull, freeBytes } from './disk-space.ts';

export interface FetchWatchdogOptions {
  /** Fail with PEERS_UNAVAILABLE after this long without a block. undefined: wait as long as the caller does. */
  noDataTimeoutMs: number | undefined;
  /** Where the core's blocks are stored: a full disk there stalls Hypercore silently. */
  storageDir: string;
  /** Free bytes below which a stalled fetch is a full disk. */
  minFreeBytes: number;
  /** For messages: `build b42 (api) in region eu`. */
  what: string;
  /** Peers now, blocks held / all, for messages. */
  state: () => { peers: number; held: number; blocks: number };
  /** @defaultValue 1_000 */
  checkEveryMs?: number;
}

/**
 * Ends a fetch that stopped making progress, with the reason: no block from any peer for too
 * long (PEERS_UNAVAILABLE, so the agent falls back to its bucket), or a full disk under the core
 * storage — Hypercore pauses a peer whose block it cannot store and says nothing, so without
 * this check such a fetch would simply hang.
 */
export class FetchWatchdog {
  private readonly controller = new AbortController();
  private readonly timer: NodeJS.Timeout;
  private lastProgress = performance.now();
  private checking = false;

  constructor(private readonly options: FetchWatchdogOptions) {
    this.timer = setInterval(() => void this.check(), options.checkEveryMs ?? 1_000);
    this.timer.unref();
  }

  /** Aborted with the reason when the fetch should end. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  progressed(): void {
    this.lastProgress = performance.now();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private async check(): Promise<void> {
    if (this.checking || this.controller.signal.aborted) return;
    const idleMs = performance.now() - this.lastProgress;
    if (idleMs < 2 * (this.options.checkEveryMs ?? 1_000)) return;
    this.checking = true;
    try {
      const free = await freeBytes(this.options.storageDir).catch(() => Number.POSITIVE_INFINITY);
      if (free < this.options.minFreeBytes) {
        this.controller.abort(diskFull(this.options.storageDir, `${free} bytes are left, the fetch of ${this.options.what} cannot store its next block`, { free }));
        return;
      }
      const limit = this.options.noDataTimeoutMs;
      if (limit !== undefined && idleMs >= limit) {
        const { peers, held, blocks } = this.options.state();
        this.controller.abort(
          new FleetcastError(
            'PEERS_UNAVAILABLE',
            `no peer served a block of ${this.options.what} for ${humanDuration(Math.round(idleMs))} (${peers} peers connected, ${held} of ${blocks} blocks held): fetch it from the regional bucket`,
            { peers, held, blocks, idleMs: Math.round(idleMs) },
          ),
        );
      }
    } finally {
      this.checking = false;
    }
  }
}
