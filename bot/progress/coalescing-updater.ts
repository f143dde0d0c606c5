import type { Logger } from '../../logging/index.ts';
import type { SlackMessage } from '../messages/blocks.ts';
import type { ProgressMessage } from './progress-message.ts';

/**
 * Shows the newest of a stream of versions of one message: at most one update in flight, at
 * least `minIntervalMs` between updates (Slack rate-limits chat.update to about one a second
 * per channel), versions that came in between skipped, the final one always shown.
 */
export class CoalescingUpdater {
  private latest: { message: SlackMessage; final: boolean } | null = null;
  private running: Promise<void> | null = null;
  private lastShownAt = 0;
  private finished = false;

  constructor(
    private readonly target: ProgressMessage,
    private readonly minIntervalMs: number,
    private readonly logger: Logger,
  ) {}

  push(message: SlackMessage): void {
    if (this.finished) return;
    this.latest = { message, final: false };
    this.running ??= this.drain();
  }

  /** Shows the final version once whatever is in flight is done; resolves when it is shown (or failed). */
  async finish(message: SlackMessage): Promise<void> {
    this.finished = true;
    this.latest = { message, final: true };
    this.running ??= this.drain();
    await this.running;
  }

  private async drain(): Promise<void> {
    while (this.latest) {
      const wait = this.lastShownAt + this.minIntervalMs - Date.now();
      if (wait > 0 && !this.latest.final) await new Promise((resolve) => setTimeout(resolve, wait));
      const next = this.latest;
      this.latest = null;
      try {
        await this.target.show(next.message, next.final);
      } catch (err) {
        this.logger.warn({ err }, 'could not update a progress message');
      }
      this.lastShownAt = Date.now();
    }
    this.running = null;
  }
}
