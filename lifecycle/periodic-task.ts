import type { Logger } from '../logging/index.ts';
import { sleep } from './sleep.ts';

/**
 * Runs `round` every `intervalMs` until stopped. A failing round is logged and the next one
 * runs on time: a database or bucket outage must not kill a background loop.
 */
export class PeriodicTask {
  private stopping = new AbortController();
  private loop: Promise<void> | undefined;

  constructor(
    private readonly what: string,
    private readonly intervalMs: number | (() => number),
    private readonly round: () => Promise<unknown>,
    private readonly logger: Logger,
  ) {}

  start(): void {
    if (this.loop) return;
    this.stopping = new AbortController();
    this.loop = this.run(this.stopping.signal);
  }

  /** Waits for the round in progress to end. */
  async stop(): Promise<void> {
    this.stopping.abort();
    await this.loop;
    this.loop = undefined;
  }

  private async run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      try {
        await this.round();
      } catch (err) {
        this.logger.warn({ err }, `${this.what} failed; trying again next round`);
      }
      await sleep(typeof this.intervalMs === 'number' ? this.intervalMs : this.intervalMs(), signal);
    }
  }
}
