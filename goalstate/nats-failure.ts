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

interface NatsLikeError {
  code?: string;
  message?: string;
  api_error?: { code?: number; err_code?: number; description?: string };
}

/** JetStream's "wrong last sequence": a compare-and-set lost. */
export const wrongLastSequence = 10071;
/** JetStream's "stream not found". */
export const streamNotFound = 10059;
/** JetStream's "consumer not found". */
export const consumerNotFound = 10014;

export function jetStreamErrorCode(err: unknown): number | undefined {
  return (err as NatsLikeError | undefined)?.api_error?.err_code;
}

/**
 * Turns an error of the nats client into a FleetcastError with a code and a message saying what
 * to do. Errors that already are FleetcastErrors pass through.
 */
export function natsFailure(err: unknown, context: NatsContext): FleetcastError {
  if (isFleetcastError(err)) return err;
  const e = (err ?? {}) as NatsLikeError;
  const code = e.code ?? '';
  const detail = e.api_error?.description ?? e.message ?? String(err);
  const details = { natsCode: code, jetStreamCode: e.api_error?.err_code, server: context.server };
  if (code === 'PERMISSIONS_VIOLATION' || /permissions violation/i.test(detail)) {
    return new FleetcastError(
      'FORBIDDEN',
      `${context.action}: ${context.server} refused it (${detail}); these NATS credentials may not do this — see the users and permissions in ops/nats/*.conf.template`,
      details,
      { cause: err },
    );
  }
  if (e.api_error?.err_code === streamNotFound) {
    return new FleetcastError('NOT_FOUND', `${context.action}: the bucket does not exist on ${context.server}; the coordinator creates it at start (GoalWriter.ensureBuckets)`, details, { cause: err });
  }
  if (['TIMEOUT', '503', 'CONNECTION_CLOSED', 'CONNECTION_DRAINING', 'CONNECTION_REFUSED', 'CONNECTION_TIMEOUT', 'DISCONNECT'].includes(code)) {
    const why = code === '503' ? 'no server answered (no responders: JetStream or the leaf link is down)' : code === 'TIMEOUT' ? 'no answer in time' : code.toLowerCase().replaceAll('_', ' ');
    return new FleetcastError('NATS_UNAVAILABLE', `${context.action}: ${why} from ${context.server}. ${context.startHint}`, details, { cause: err });
  }
  return new FleetcastError('INTERNAL', `${context.action}: NATS failed: ${detail}`, details, { cause: err });
}
