import type { ServerMessage } from './messages.ts';
import { PollingLoop, type NextStep } from './polling-loop.ts';

/** What an events connection holds per subscription. */
export interface Watch {
  start(): void;
  stop(): void;
}

export interface ChangeWatchOptions<T> {
  /** Reads the watched thing now (one indexed read). */
  read: () => Promise<T>;
  /** What makes a change worth telling; equal keys send nothing. */
  changeKey: (value: T) => string;
  message: (value: T) => ServerMessage;
  /** After sending a final value the subscription ends. */
  isFinal: (value: T) => boolean;
  send: (message: ServerMessage) => void;
  pollMs: number;
  onError: (err: unknown) => NextStep;
}

/**
 * One subscription to one thing (a build, a deployment): sends it at once, then each time it
 * changes, and stops after it is final. The server polls; clients never poll, they just listen.
 */
export class ChangeWatch<T> implements Watch {
  private readonly loop: PollingLoop;
  private lastKey: string | null = null;

  constructor(private readonly options: ChangeWatchOptions<T>) {
    this.loop = new PollingLoop(() => this.step(), options.pollMs, options.onError);
  }

  start(): void {
    this.loop.start();
  }

  stop(): void {
    this.loop.stop();
  }

  private async step(): Promise<NextStep> {
    const value = await this.options.read();
    const key = this.options.changeKey(value);
    if (key !== this.lastKey) {
      this.lastKey = key;
      this.options.send(this.options.message(value));
    }
    return this.options.isFinal(value) ? 'done' : 'later';
  }
}
