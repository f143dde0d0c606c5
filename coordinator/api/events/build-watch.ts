import { isFinal, type Build, type BuildQueue } from '../../queue/index.ts';
import { toBuildJson } from '../build-json.ts';
import type { ServerMessage } from './messages.ts';
import { PollingLoop, type NextStep } from './polling-loop.ts';

/** What makes a change worth telling: not heartbeats, which tick every few seconds. */
function changeKey(build: Build): string {
  return JSON.stringify([
    build.status,
    build.attempts,
    build.claimedBy,
    build.startedAt?.getTime(),
    build.finishedAt?.getTime(),
    build.failureReason,
    build.digest,
    build.size,
    build.cancelledBy,
  ]);
}

/**
 * One subscription to a build: sends it at once, then each time its row changes, and stops
 * after it is final. The server polls the row; clients never poll, they just listen.
 */
export class BuildWatch {
  private readonly loop: PollingLoop;
  private lastKey: string | null = null;

  constructor(
    private readonly buildId: number,
    private readonly queue: BuildQueue,
    private readonly send: (message: ServerMessage) => void,
    pollMs: number,
    onError: (err: unknown) => NextStep,
  ) {
    this.loop = new PollingLoop(() => this.step(), pollMs, onError);
  }

  start(): void {
    this.loop.start();
  }

  stop(): void {
    this.loop.stop();
  }

  private async step(): Promise<NextStep> {
    const build = await this.queue.get(this.buildId);
    const key = changeKey(build);
    if (key !== this.lastKey) {
      this.lastKey = key;
      this.send({ type: 'build', build: toBuildJson(build) });
    }
    return isFinal(build.status) ? 'done' : 'later';
  }
}
