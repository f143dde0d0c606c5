import { WebSocket, type RawData } from 'ws';
import { FleetcastError, isFleetcastError } from '../../../errors/index.ts';
import type { Logger } from '../../../logging/index.ts';
import { parseDeploymentId, type DeployService } from '../../deploys/index.ts';
import { formatBuildId, parseBuildId, type BuildQueue } from '../../../queue/index.ts';
import { requireScope, type Principal } from '../auth/index.ts';
import type { BuildLogSource } from '../build-log-source.ts';
import { parseInput } from '../parse-input.ts';
import { buildWatch } from './build-watch.ts';
import type { Watch } from './change-watch.ts';
import { deploymentWatch } from './deployment-watch.ts';
import type { FleetFeed } from './fleet-feed.ts';
import { FleetWatch } from './fleet-watch.ts';
import { LogWatch } from './log-watch.ts';
import { clientMessage, type ClientMessage, type ServerMessage } from './messages.ts';
import { statusWatch } from './status-watch.ts';
import type { NextStep } from './polling-loop.ts';

/** A subscribe message (not an unsubscribe) about one thing (the fleet is the FleetWatch's). */
type Subscription = Exclude<Extract<ClientMessage, { subscribe: string }>, { subscribe: 'fleet' }>;

/** A client watching more than this many things at once is probably leaking subscriptions. */
const maxSubscriptions = 64;

export interface EventsConnectionOptions {
  queue: BuildQueue;
  deploys: Pick<DeployService, 'progress' | 'get' | 'status'>;
  logs: BuildLogSource;
  /** The one fleet-wide feed all connections share. */
  fleet: FleetFeed;
  logger: Logger;
  pollMs: number;
  /** How often a status subscription reads the service's status (goals of every region, lock, newest deployment). */
  statusPollMs: number;
}

/** One client of GET /v1/events and its subscriptions, each keyed `build:42`, `log:42`, `deployment:7` or `status:api`. */
export class EventsConnection {
  private readonly watches = new Map<string, Watch>();

  constructor(
    private readonly socket: WebSocket,
    private readonly principal: Principal,
    private readonly options: EventsConnectionOptions,
  ) {
    socket.on('message', (data, isBinary) => this.onMessage(data, isBinary));
    socket.on('close', () => this.stopAll());
    socket.on('error', (err) => options.logger.debug({ err, token: principal.name }, 'events: socket error'));
  }

  close(code: number, reason: string): void {
    this.stopAll();
    this.socket.close(code, reason);
  }

  private onMessage(data: RawData, isBinary: boolean): void {
    try {
      if (isBinary) throw new FleetcastError('INVALID_INPUT', 'send JSON text messages, e.g. {"subscribe":"build","id":"b42"}');
      let json: unknown;
      try {
        json = JSON.parse(data.toString());
      } catch {
        throw new FleetcastError('INVALID_INPUT', 'a message is not valid JSON; send e.g. {"subscribe":"build","id":"b42"}');
      }
      const message = parseInput(clientMessage, json, 'message');
      if ('unsubscribe' in message) {
        this.stopWatch(message.unsubscribe === 'fleet' ? 'fleet' : message.unsubscribe === 'status' ? `status:${message.service}` : watchKey(message.unsubscribe, message.id));
        return;
      }
      if (message.subscribe === 'fleet') {
        this.stopWatch('fleet');
        const watch = new FleetWatch(this.options.fleet, this.principal, (m) => this.send(m));
        this.watches.set('fleet', watch);
        watch.start();
        return;
      }
      // Logs may show what a build saw: scope build, as GET /v1/builds/:id/log.
      if (message.subscribe === 'log') requireScope(this.principal, 'build', 'read build logs');
      const key = message.subscribe === 'status' ? `status:${message.service}` : watchKey(message.subscribe, message.id);
      this.stopWatch(key);
      if (this.watches.size >= maxSubscriptions) {
        throw new FleetcastError('INVALID_INPUT', `at most ${maxSubscriptions} subscriptions per connection; unsubscribe from some first`);
      }
      if (this.principal.services !== null) {
        // A token limited to services watches only theirs: the service is looked up first.
        this.checkService(message).then(
          () => this.startWatch(key, message),
          (err: unknown) => this.sendError(err, subject(message)),
        );
        return;
      }
      this.startWatch(key, message);
    } catch (err) {
      this.sendError(err);
    }
  }

  private async checkService(message: Subscription): Promise<void> {
    const service =
      message.subscribe === 'status'
        ? message.service
        : message.subscribe === 'deployment'
          ? (await this.options.deploys.get(message.id)).service
          : (await this.options.queue.get(message.id)).service;
    const services = this.principal.services!;
    if (!services.includes(service)) {
      throw new FleetcastError('FORBIDDEN', `token "${this.principal.name}" is limited to ${services.join(', ')} and may not watch service ${service}`, {
        token: this.principal.name,
        service,
        services,
      });
    }
  }

  private startWatch(key: string, message: Subscription): void {
    try {
      const { queue, logs, pollMs } = this.options;
      const send = (m: ServerMessage) => this.send(m);
      let watch: Watch;
      if (message.subscribe === 'status') {
        const { service } = message;
        watch = statusWatch(service, this.principal, this.options.deploys, send, this.options.statusPollMs, (err) => this.onWatchError(key, service, err));
      } else if (message.subscribe === 'deployment') {
        const id = `d${parseDeploymentId(message.id)}`;
        watch = deploymentWatch(id, this.options.deploys, send, pollMs, (err) => this.onWatchError(key, id, err));
      } else {
        const buildId = parseBuildId(message.id);
        const onError = (err: unknown) => this.onWatchError(key, formatBuildId(buildId), err);
        watch =
          message.subscribe === 'build'
            ? buildWatch(buildId, queue, send, pollMs, onError)
            : new LogWatch(buildId, message.offset, queue, logs, send, () => this.socket.bufferedAmount, pollMs, onError);
      }
      this.watches.set(key, watch);
      watch.start();
    } catch (err) {
      this.sendError(err);
    }
  }

  /** A build or deployment that does not exist ends its subscription; a database hiccup is retried. */
  private onWatchError(key: string, id: string, err: unknown): NextStep {
    if (isFleetcastError(err, 'NOT_FOUND') || isFleetcastError(err, 'INVALID_INPUT')) {
      this.watches.delete(key);
      this.sendError(err, id);
      return 'done';
    }
    this.options.logger.warn({ err, subscription: key }, 'events: a watch failed; retrying');
    return 'later';
  }

  private sendError(err: unknown, id?: string): void {
    const error = isFleetcastError(err) ? err : new FleetcastError('INTERNAL', 'internal error; the coordinator logged it');
    if (!isFleetcastError(err)) this.options.logger.error({ err }, 'events: unexpected error');
    this.send({ type: 'error', ...(id === undefined ? {} : { id }), error: error.toJSON() });
  }

  private send(message: ServerMessage): void {
    if (this.socket.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify(message));
  }

  private stopWatch(key: string): void {
    this.watches.get(key)?.stop();
    this.watches.delete(key);
  }

  private stopAll(): void {
    for (const watch of this.watches.values()) watch.stop();
    this.watches.clear();
  }
}

/** What an error about a subscription names: the build, deployment or service. */
function subject(message: Subscription): string {
  return message.subscribe === 'status' ? message.service : message.id;
}

/** `build:42`, `log:42`, `deployment:7`: one subscription per kind and id. */
function watchKey(kind: 'build' | 'log' | 'deployment', id: string): string {
  return `${kind}:${kind === 'deployment' ? parseDeploymentId(id) : parseBuildId(id)}`;
}
