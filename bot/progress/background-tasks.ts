import type { Logger } from '../../logging/index.ts';

/**
 * Work that outlives the request that started it (following a deploy, waiting for a build):
 * each task gets the signal that ends it when the bot stops, and stop() waits for all of them,
 * so a stopping bot leaves its messages saying it stopped instead of half-updated.
 */
export class BackgroundTasks {
  private readonly stopping = new AbortController();
  private readonly running = new Set<Promise<void>>();

  constructor(private readonly logger: Logger) {}

  run(name: string, task: (signal: AbortSignal) => Promise<void>): void {
    if (this.stopping.signal.aborted) return;
    const promise = task(this.stopping.signal)
      .catch((err: unknown) => this.logger.error({ err, task: name }, 'a background task failed'))
      .finally(() => this.running.delete(promise));
    this.running.add(promise);
  }

  /** How many are running (tests wait for a deploy's message to be final). */
  get size(): number {
    return this.running.size;
  }

  /** Resolves once every task running now has ended (tests). */
  async settled(): Promise<void> {
    while (this.running.size > 0) await Promise.all([...this.running]);
  }

  async stop(): Promise<void> {
    this.stopping.abort();
    await this.settled();
  }
}
