import WebSocket from 'ws';
import type { ServerMessage } from '../api-contract/index.ts';
import { FleetcastError, errorCodes, type ErrorCode } from '../errors/index.ts';
import type { ApiClient } from './api-client.ts';

export interface EventStreamOptions<T> {
  /** The subscription message (or several), asked for again on every (re)connection so it can resume. */
  subscription: () => Record<string, unknown> | Record<string, unknown>[];
  /** Returns a value to end the stream with; undefined to keep listening. May throw to fail it. */
  onMessage: (message: ServerMessage) => T | undefined;
  /** Reconnections in a row that may fail once the stream was up (a coordinator restarting); Infinity: never give up. @defaultValue 10 */
  maxReconnects?: number;
  /** Ends the stream early (a bot stopping): the promise rejects with CANCELLED. */
  signal?: AbortSignal;
}

/**
 * Listens on the coordinator's /v1/events WebSocket until `onMessage` has what it waited for.
 * The server pushes changes; the client never polls. A connection lost midway (coordinator
 * restart, network blip) is re-established and the subscription sent again.
 */
export function streamEvents<T>(client: ApiClient, options: EventStreamOptions<T>): Promise<T> {
  const url = client.config.apiUrl.replace(/^http/, 'ws') + '/v1/events';
  const maxReconnects = options.maxReconnects ?? 10;
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    let everOpened = false;
    let failures = 0;
    let lastError: unknown = new Error('connection closed');
    let socket: WebSocket | undefined;
    let retry: NodeJS.Timeout | undefined;

    const onAbort = () => finish(new FleetcastError('CANCELLED', 'stopped listening to the coordinator\'s events'));
    const finish = (err: unknown, value?: T) => {
      if (settled) return;
      settled = true;
      options.signal?.removeEventListener('abort', onAbort);
      clearTimeout(retry);
      socket?.removeAllListeners('close');
      socket?.on('error', () => undefined);
      socket?.terminate();
      if (err === undefined) resolve(value as T);
      else reject(err);
    };

    const connect = () => {
      const ws = new WebSocket(url, { headers: client.authHeaders(), handshakeTimeout: 10_000, ...client.tlsOptions() });
      socket = ws;
      ws.on('open', () => {
        everOpened = true;
        failures = 0;
        const subscription = options.subscription();
        for (const message of Array.isArray(subscription) ? subscription : [subscription]) ws.send(JSON.stringify(message));
      });
      ws.on('message', (data) => {
        let message: ServerMessage;
        try {
          message = JSON.parse(data.toString()) as ServerMessage;
        } catch {
          return;
        }
        if (message.type === 'error') {
          const code = (message.error.code in errorCodes ? message.error.code : 'INTERNAL') as ErrorCode;
          finish(new FleetcastError(code, message.error.message, message.error.details));
          return;
        }
        try {
          const value = options.onMessage(message);
          if (value !== undefined) finish(undefined, value);
        } catch (err) {
          finish(err);
        }
      });
      ws.on('unexpected-response', (request, response) => {
        let body = '';
        response.on('data', (chunk: Buffer) => (body += chunk.toString()));
        response.on('end', () => void client.refusal(response.statusCode ?? 0, body).then((err) => finish(err)));
        response.on('error', (err) => finish(client.unreachable(err)));
        request.on('error', () => undefined);
      });
      ws.on('error', (err) => (lastError = err));
      ws.on('close', () => {
        if (settled) return;
        failures += 1;
        if (!everOpened || failures > maxReconnects) {
          finish(client.unreachable(lastError));
          return;
        }
        retry = setTimeout(connect, Math.min(500 * failures, 5_000));
      });
    };
    if (options.signal?.aborted) {
      onAbort();
      return;
    }
    options.signal?.addEventListener('abort', onAbort);
    connect();
  });
}
