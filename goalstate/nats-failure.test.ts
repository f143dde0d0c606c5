// natsFailure over the error shapes @nats-io 3.x produces (built here as the client builds them:
// the error that says what happened is usually the `cause` of a generic wrapper). The same
// classification is checked against a real server's refusals in test/goalstate-permissions.
import { JetStreamApiError } from '@nats-io/jetstream';
import { jserrors } from '@nats-io/jetstream/internal';
import { AuthorizationError, ClosedConnectionError, NoRespondersError, PermissionViolationError, RequestError, TimeoutError } from '@nats-io/nats-core';
import { describe, expect, it } from 'vitest';
import { FleetcastError } from '../errors/index.ts';
import { jetStreamErrorCode, natsFailure, natsFailureKind, wrongLastSequence } from './nats-failure.ts';

const context = { action: 'writing goal api.eu', server: 'the NATS hub at nats://127.0.0.1:4222', startHint: 'Start the hub.' };

/** As the client reports a request refused by the server's permissions. */
function permissionViolation(subject: string): RequestError {
  const message = `Permissions Violation for Publish to "${subject}"`;
  return new RequestError(message, { cause: new PermissionViolationError(message, 'publish', subject) });
}

/** As the JetStream client reports a request nobody listens to (JetStream or the leaf link down). */
function noResponders(subject: string): Error {
  const request = new RequestError(`no responders: '${subject}'`, { cause: new NoRespondersError(subject) });
  return new jserrors.JetStreamNotEnabled('jetstream is not enabled', { cause: request });
}

function apiError(errCode: number, description: string): JetStreamApiError {
  return new JetStreamApiError({ code: errCode === 10059 ? 404 : 400, err_code: errCode, description });
}

describe('natsFailure', () => {
  it('a permission violation (wrapped in a RequestError) is FORBIDDEN, naming the subject', () => {
    const err = natsFailure(permissionViolation('$KV.goal.api.eu'), context);
    expect(err.code).toBe('FORBIDDEN');
    expect(err.message).toContain('Permissions Violation for Publish to "$KV.goal.api.eu"');
    expect(err.details).toMatchObject({ natsFailure: 'permission-denied', natsError: 'RequestError' });
  });

  it('refused credentials are FORBIDDEN too', () => {
    expect(natsFailure(new AuthorizationError('Authorization Violation'), context).code).toBe('FORBIDDEN');
  });

  it('no responders is NATS_UNAVAILABLE saying so — not "jetstream is not enabled"', () => {
    const err = natsFailure(noResponders('$JS.eu.API.$KV.status-eu.api.m1'), context);
    expect(err.code).toBe('NATS_UNAVAILABLE');
    expect(err.message).toBe('writing goal api.eu: no server answered (no responders: JetStream or the leaf link is down) from the NATS hub at nats://127.0.0.1:4222. Start the hub.');
  });

  it('a timeout, a closed connection and a request dropped with the connection are NATS_UNAVAILABLE', () => {
    expect(natsFailure(new TimeoutError(), context)).toMatchObject({ code: 'NATS_UNAVAILABLE', message: expect.stringContaining('no answer in time') });
    expect(natsFailure(new ClosedConnectionError(), context)).toMatchObject({ code: 'NATS_UNAVAILABLE', message: expect.stringContaining('closed or was lost') });
    expect(natsFailureKind(new RequestError('connection disconnected'))).toBe('connection-lost');
    // A request pending when its connection closed: the request's RequestError around the one the connection gave it.
    expect(natsFailure(new RequestError('connection closed', { cause: new RequestError('connection closed') }), context).code).toBe('NATS_UNAVAILABLE');
  });

  it('a missing stream is NOT_FOUND pointing at ensureBuckets', () => {
    const err = natsFailure(new jserrors.StreamNotFoundError({ code: 404, err_code: 10059, description: 'stream not found' }), context);
    expect(err.code).toBe('NOT_FOUND');
    expect(err.message).toContain('GoalWriter.ensureBuckets');
  });

  it('other JetStream API errors keep their code and are INTERNAL', () => {
    const wrong = apiError(wrongLastSequence, 'wrong last sequence: 7');
    expect(jetStreamErrorCode(wrong)).toBe(10071);
    expect(natsFailure(wrong, context)).toMatchObject({ code: 'INTERNAL', message: 'writing goal api.eu: NATS failed: wrong last sequence: 7', details: { jetStreamCode: 10071 } });
    expect(jetStreamErrorCode(new Error('x'))).toBeUndefined();
  });

  it('a FleetcastError passes through; anything else is INTERNAL', () => {
    const own = new FleetcastError('GOAL_INVALID', 'bad', {});
    expect(natsFailure(own, context)).toBe(own);
    expect(natsFailure(new Error('boom'), context)).toMatchObject({ code: 'INTERNAL', message: 'writing goal api.eu: NATS failed: boom' });
    expect(natsFailureKind(undefined)).toBe('other');
  });
});
