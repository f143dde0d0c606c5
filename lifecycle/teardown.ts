import type { Logger } from '../logging/index.ts';

/**
 * What a role's `run()` started, undone in reverse. Each step is registered right after the
 * thing it undoes has started, so a start that throws half-way undoes exactly what it did
 * (`run()` in its catch) and `stop()` undoes everything the same way: one sequence, no second
 * list to forget a database connection or a timer in.
 */
export class Teardown {
  private readonly steps: { what: string; undo: () => unknown }[] = [];
  private running: Promise<void> | undefined;

  constructor(private readonly logger: Logger) {}

  /** Registers how to undo `what` (a database, a loop, a server), which has just started. */
  add(what: string, undo: () => unknown): void {
    if (this.running) throw new Error(`cannot register ${what}: the teardown has already run`);
    this.steps.push({ what, undo });
  }

  /**
   * Undoes every step, newest first. A failing step is logged and the rest still run, so one
   * broken close does not leak everything registered before it. Later calls wait for the first.
   */
  run(): Promise<void> {
    this.running ??= this.unwind();
    return this.running;
  }

  /** Names of the steps still registered, newest last (tests). */
  get registered(): string[] {
    return this.steps.map((step) => step.what);
  }

  private async unwind(): Promise<void> {
    for (let step = this.steps.pop(); step; step = this.steps.pop()) {
      try {
        await step.undo();
      } catch (err) {
        this.logger.warn({ err, step: step.what }, `stopping ${step.what} failed; stopping the rest`);
      }
    }
  }
}
