import { isFinal, type Build, type BuildQueue } from '../../../queue/index.ts';
import { toBuildJson } from '../build-json.ts';
import { ChangeWatch } from './change-watch.ts';
import type { ServerMessage } from './messages.ts';
import type { NextStep } from './polling-loop.ts';

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

/** A subscription to a build's row: `{ type: "build", build }` at once and on every change until it is final. */
export function buildWatch(buildId: number, queue: BuildQueue, send: (message: ServerMessage) => void, pollMs: number, onError: (err: unknown) => NextStep): ChangeWatch<Build> {
  return new ChangeWatch({
    read: () => queue.get(buildId),
    changeKey,
    message: (build) => ({ type: 'build', build: toBuildJson(build) }),
    isFinal: (build) => isFinal(build.status),
    send,
    pollMs,
    onError,
  });
}
