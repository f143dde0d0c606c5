import { formatBuildId, isFinal, type BuildQueue } from '../../../queue/index.ts';
import type { BuildLogSource } from '../build-log-source.ts';
import type { ServerMessage } from './messages.ts';
import { PollingLoop, type NextStep } from './polling-loop.ts';

/** Past this much unsent data the client reads slower than the log grows: wait for it. */
const maxBufferedBytes = 1024 * 1024;

/**
 * One subscription to a build's log: sends chunks from the offset as they appear, draining
 * what exists without waiting, then `log-end` once the build is final and a read finds nothing.
 */
export class LogWatch {
  private readonly loop: PollingLoop;

  constructor(
    private readonly buildId: number,
    private offset: number,
    private readonly queue: BuildQueue,
    private readonly logs: BuildLogSource,
    private readonly send: (message: ServerMessage) => void,
    private readonly bufferedBytes: () => number,
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
    if (this.bufferedBytes() > maxBufferedBytes) return 'later';
    // The build is read before the log: if it was final then, an empty read is the end.
    const build = await this.queue.get(this.buildId);
    const chunk = await this.logs.read(build, this.offset);
    const id = formatBuildId(this.buildId);
    if (chunk.text !== '') {
      this.offset = chunk.nextOffset;
      this.send({ type: 'log', id, text: chunk.text, nextOffset: chunk.nextOffset });
      return 'now';
    }
    if (isFinal(build.status)) {
      this.send({ type: 'log-end', id, nextOffset: this.offset });
      return 'done';
    }
    return 'later';
  }
}
