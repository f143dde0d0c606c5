import { JetStreamApiCodes, JetStreamApiError } from '@nats-io/jetstream';
import {
  AuthorizationError,
  ClosedConnectionError,
  ConnectionError,
  DrainingConnectionError,
  NoRespondersError,
  PermissionViolationError,
  RequestError,
  TimeoutError,
  UserAuthenticationExpiredError,
} from '@nats-io/nats-core';
import { FleetcastError, isFleetcastError } from '../errors/index.ts';

/** What a failed NATS operation was about, for the message a person reads. */
export interface NatsContext {
  /** What was being done: `writing goal api.eu`. */
  action: string;
  /** Which server: `the NATS hub at nats://127.0.0.1:4222` (credentials redacted). */
  server: string;
  /** What to start or check when the server does not answer. */
  startHint: string;
}

/** JetStream's "wrong last sequence": a compare-and-set lost. */
export const wrongLastSequence = JetStreamApiCodes.StreamWrongLastSequence;
/** JetStream's "stream not found". */
export const streamNotFound = JetStreamApiCodes.StreamNotFound;
/** JetStream's "consumer not found". */
export const consumerNotFound = JetStreamApiCodes.ConsumerNotFound;

/**
 * What went wrong, whatever error class the client used for it:
 * - `permission-denied`: the server refused the subject to these credentials;
 * - `auth-refused`: the server refused the credentials themselves;
 * - `no-responders`: nobody listens on the subject (JetStream, or the leaf link to it, is down);
 * - `timeout`: nobody answered in time;
 * - `connection-lost`: the client is closed, draining, or lost the connection mid-request;
 * - `stream-not-found`: the bucket does not exist;
 * - `other`: anything else (a JetStream API error with a code, a bug).
 */
export type NatsFailureKind = 'permission-denied' | 'auth-refused' | 'no-responders' | 'timeout' | 'connection-lost' | 'stream-not-found' | 'other';

/**
 * The error and its causes, outermost first. The 3.x client reports what happened as the
 * `cause` of a generic wrapper: a permission violation inside a RequestError, no responders
 * inside a RequestError inside JetStreamNotEnabled — so the class that says what happened is
 * rarely the outer one.
 */
function causes(err: unknown): unknown[] {
  const chain: unknown[] = [];
  for (let e = err; e !== undefined && e !== null && chain.length < 8 && !chain.includes(e); e = (e as { cause?: unknown }).cause) chain.push(e);
  return chain;
}

export function natsFailureKind(err: unknown): NatsFailureKind {
  const chain = causes(err);
  const has = (type: abstract new (...args: never[]) => Error) => chain.some((e) => e instanceof type);
  if (has(PermissionViolationError)) return 'permission-denied';
  if (has(AuthorizationError) || has(UserAuthenticationExpiredError)) return 'auth-refused';
  if (has(NoRespondersError)) return 'no-responders';
  if (has(TimeoutError)) return 'timeout';
  if (jetStreamErrorCode(err) === streamNotFound) return 'stream-not-found';
  if (has(ClosedConnectionError) || has(DrainingConnectionError) || has(ConnectionError)) return 'connection-lost';
  // RequestErrors that wrap nothing else (the request's own wrapping the one the client gives
  // every pending request when the connection closes or drops): the server may be fine.
  if (chain.length > 0 && chain.every((e) => e instanceof RequestError)) return 'connection-lost';
  return 'other';
}

/** The JetStream API error code (`err_code`, e.g. 10071) of a failure, if the server sent one. */
export function jetStreamErrorCode(err: unknown): number | undefined {
  const api = causes(err).find((e): e is JetStreamApiError => e instanceof JetStreamApiError);
  return api?.code;
}

/** The innermost message: the wrappers' are copies of it or say less ("jetstream is not enabled" for no responders). */
function detailOf(err: unknown): string {
  const chain = causes(err);
  const inner = chain[chain.length - 1];
  return inner instanceof Error ? inner.message : String(err);
}

const unavailableWhy: Partial<Record<NatsFailureKind, string>> = {
  'no-responders': 'no server answered (no responders: JetStream or the leaf link is down)',
  timeout: 'no answer in time',
  'connection-lost': 'the connection is closed or was lost',
};

/**
 * Turns an error of the nats client into a FleetcastError with a code and a message saying what
 * to do. Errors that already are FleetcastErrors pass through.
 */
export function natsFailure(err: unknown, context: NatsContext): FleetcastError {
  if (isFleetcastError(err)) return err;
  const kind = natsFailureKind(err);
  const detail = detailOf(err);
  const details = { natsError: err instanceof Error ? err.name : typeof err, natsFailure: kind, jetStreamCode: jetStreamErrorCode(err), server: context.server };
  if (kind === 'permission-denied' || kind === 'auth-refused') {
    return new FleetcastError(
      'FORBIDDEN',
      `${context.action}: ${context.server} refused it (${detail}); these NATS credentials may not do this — see the users and permissions in ops/nats/*.conf.template`,
      details,
      { cause: err },
    );
  }
  if (kind === 'stream-not-found') {
    return new FleetcastError('NOT_FOUND', `${context.action}: the bucket does not exist on ${context.server}; the coordinator creates it at start (GoalWriter.ensureBuckets)`, details, { cause: err });
  }
  const why = unavailableWhy[kind];
  if (why) return new FleetcastError('NATS_UNAVAILABLE', `${context.action}: ${why} from ${context.server}. ${context.startHint}`, details, { cause: err });
  return new FleetcastError('INTERNAL', `${context.action}: NATS failed: ${detail}`, details, { cause: err });
}
