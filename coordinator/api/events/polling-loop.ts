/** What a step of a loop wants next: run again at once, after the interval, or never. */
export type NextStep = 'now' | 'later' | 'done';

/**
 * Runs `step` until it says done or the loop is stopped, never two steps at once (a slow
 * database makes the loop slower, not wider).
 */
export class PollingLoop {
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly step: () => Promise<NextStep>,
    private readonly intervalMs: number,
    private readonly onError: (err: unknown) => NextStep,
  ) {}

  start(): void {
    void this.run();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  private async run(): Promise<void> {
    if (this.stopped) return;
    let next: NextStep;
    try {
      next = await this.step();
    } catch (err) {
      next = this.onError(err);
    }
    if (this.stopped || next === 'done') {
      this.stopped = true;
      return;
    }
    this.timer = setTimeout(() => void this.run(), next === 'now' ? 0 : this.intervalMs);
  }
}
