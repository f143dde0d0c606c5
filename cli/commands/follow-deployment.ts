import type { DeploymentProgressJson } from '../../api-contract/index.ts';
import { streamEvents, type ApiClient } from '../../api-client/index.ts';
import { FleetcastError } from '../../errors/index.ts';
import { DeployWaitProgress } from '../format/deploy-wait-progress.ts';

/**
 * Reconnections in a row a follower tries before giving up: with the client's backoff (0.5 s more
 * per failure, at most 5 s) about 5 minutes of coordinator restart or network outage.
 */
export const followReconnects = 64;

export interface FollowOptions {
  /** Where the live display goes (redrawn on a terminal, a line per change elsewhere); null for none. */
  display: NodeJS.WriteStream | null;
  /** Every progress message as one JSON line on stdout (`--follow --json`). */
  jsonLines?: boolean;
  /** Give up after this long with `timeoutError`; undefined: until the deployment is final. */
  timeoutMs?: number;
  timeoutError?: (last: DeploymentProgressJson | undefined) => FleetcastError;
}

/**
 * Follows a deployment on /v1/events (pushed, never polled) until it is final, and returns its
 * final progress. The subscription is sent again after a lost connection, and the coordinator
 * answers it with the deployment as it is now, so an end reached while the socket was down is
 * still seen (as a message with `final: true`).
 */
export async function followDeployment(client: ApiClient, id: string, options: FollowOptions): Promise<DeploymentProgressJson> {
  const progress = options.display ? new DeployWaitProgress(options.display) : null;
  let timer: NodeJS.Timeout | undefined;
  let last: DeploymentProgressJson | undefined;
  // Stops listening once the timeout answered, so the socket does not keep the process alive.
  const stop = new AbortController();
  try {
    const stream = streamEvents<DeploymentProgressJson>(client, {
      signal: stop.signal,
      subscription: () => ({ subscribe: 'deployment', id }),
      maxReconnects: followReconnects,
      onMessage: (message) => {
        if (message.type !== 'deployment') return undefined;
        last = message;
        progress?.update(message);
        if (options.jsonLines) process.stdout.write(JSON.stringify(message) + '\n');
        return message.final ? message : undefined;
      },
    });
    if (options.timeoutMs === undefined) return await stream;
    const { timeoutMs, timeoutError } = options;
    stream.catch(() => undefined); // the race below answers; a CANCELLED after the timeout is expected
    return await Promise.race([
      stream,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(timeoutError?.(last) ?? new FleetcastError('TIMED_OUT', `${id} was not final after ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
  } finally {
    clearTimeout(timer);
    stop.abort();
    progress?.stop();
  }
}
