import { STATUS_CODES, type IncomingMessage, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { FleetcastError, isFleetcastError } from '../../../errors/index.ts';
import type { Logger } from '../../../logging/index.ts';
import type { DeployService } from '../../deploys/index.ts';
import type { BuildQueue } from '../../../queue/index.ts';
import { requestPrincipal, requireSameOrigin, requireScope, type Principal, type SessionStore, type TokenStore } from '../auth/index.ts';
import type { BuildLogSource } from '../build-log-source.ts';
import { toErrorJson } from '../error-json.ts';
import { EventsConnection } from './events-connection.ts';
import type { FleetFeed } from './fleet-feed.ts';

export const eventsPath = '/v1/events';

export interface EventsServerOptions {
  queue: BuildQueue;
  deploys: Pick<DeployService, 'progress' | 'get' | 'status'>;
  logs: BuildLogSource;
  tokens: TokenStore;
  /** Dashboard sign-ins: a browser's WebSocket carries the session cookie instead of a token. */
  sessions: SessionStore;
  /** The fleet-wide feed `{"subscribe":"fleet"}` listens to. */
  fleet: FleetFeed;
  logger: Logger;
  /** How often each subscription reads its build row / log. @defaultValue 300 */
  pollMs?: number;
  /** How often a status subscription reads the service's status (a KV get per region, two SQL reads). @defaultValue 1000 */
  statusPollMs?: number;
  /** Ping interval; a client that misses a pong is dropped. @defaultValue 30000 */
  pingMs?: number;
}

/**
 * GET /v1/events: the WebSocket stream `build --wait`, `logs --follow`, `deployment show
 * --follow`, `status --watch`, the bot and the dashboard listen to instead of polling the API.
 * It shares the API's HTTP server: the upgrade request is authenticated (bearer header,
 * `?token=`, or a dashboard session cookie from the coordinator's own origin) before the
 * WebSocket exists. `{"subscribe":"fleet"}` is served by the one shared FleetFeed, not by a
 * reader per connection. Other changes are found by the server polling each subscribed row
 * (~300 ms), which costs one indexed primary-key read per subscription per interval (a status
 * subscription: a goal read per region and two SQL reads, every second); a change feed (NATS)
 * can replace the polling later without clients noticing.
 */
export class EventsServer {
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 });
  private readonly connections = new Map<WebSocket, { connection: EventsConnection; alive: boolean }>();
  private readonly pinger: NodeJS.Timeout;

  constructor(private readonly options: EventsServerOptions) {
    this.pinger = setInterval(() => this.ping(), options.pingMs ?? 30_000);
    this.pinger.unref();
  }

  attach(server: Server): void {
    server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => this.onUpgrade(request, socket, head));
  }

  /** Ends every subscription and connection (1001: going away), so the HTTP server can close. */
  async close(): Promise<void> {
    clearInterval(this.pinger);
    this.options.fleet.stop();
    for (const [socket, { connection }] of this.connections) {
      connection.close(1001, 'coordinator stopping');
      socket.terminate();
    }
    this.connections.clear();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }

  private onUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => socket.destroy());
    let principal: Principal;
    try {
      const url = new URL(request.url ?? '/', 'http://fleetcast');
      if (url.pathname !== eventsPath) {
        throw new FleetcastError('NOT_FOUND', `no WebSocket endpoint at ${url.pathname}; events are at ${eventsPath}`);
      }
      const who = requestPrincipal(this.options.tokens, this.options.sessions, {
        authorization: request.headers.authorization,
        cookie: request.headers.cookie,
        queryToken: url.searchParams.get('token'),
        change: false,
      });
      if (who.session) requireSameOrigin(request.headers.origin, request.headers.host);
      principal = who.principal;
      requireScope(principal, 'read', 'watch events');
    } catch (err) {
      refuseUpgrade(socket, isFleetcastError(err) ? err : new FleetcastError('INTERNAL', 'internal error'));
      return;
    }
    this.wss.handleUpgrade(request, socket, head, (ws) => {
      const connection = new EventsConnection(ws, principal, {
        queue: this.options.queue,
        deploys: this.options.deploys,
        logs: this.options.logs,
        fleet: this.options.fleet,
        logger: this.options.logger,
        pollMs: this.options.pollMs ?? 300,
        statusPollMs: this.options.statusPollMs ?? this.options.pollMs ?? 1_000,
      });
      this.connections.set(ws, { connection, alive: true });
      ws.on('pong', () => {
        const entry = this.connections.get(ws);
        if (entry) entry.alive = true;
      });
      ws.on('close', () => this.connections.delete(ws));
      this.options.logger.debug({ token: principal.name }, 'events: client connected');
    });
  }

  private ping(): void {
    for (const [ws, entry] of this.connections) {
      if (!entry.alive) {
        entry.connection.close(1001, 'no pong');
        ws.terminate();
        continue;
      }
      entry.alive = false;
      ws.ping();
    }
  }
}

function refuseUpgrade(socket: Duplex, error: FleetcastError): void {
  const body = JSON.stringify(toErrorJson(error));
  socket.end(
    `HTTP/1.1 ${error.httpStatus} ${STATUS_CODES[error.httpStatus] ?? 'Error'}\r\n` +
      'Content-Type: application/json\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\n` +
      'Connection: close\r\n\r\n' +
      body,
  );
}
