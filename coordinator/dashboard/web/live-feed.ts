import type { ServerMessage } from '../../../api-contract/events.ts';
import type { BuildJson } from '../../../api-contract/build-json.ts';
import type { ServiceStatusJson } from '../../../api-contract/deployment-json.ts';

type Handler = (message: ServerMessage) => void;
/** A subscription beside the fleet one: `deployment:d7`, `build:b42`, `log:b42`. */
interface Extra {
  message: Record<string, unknown>;
  handler: Handler;
}

/**
 * The page's one WebSocket to /v1/events: the fleet subscription (every service's status, the
 * newest builds) kept in maps the pages render from, plus the subscriptions a page adds. It
 * reconnects by itself and subscribes again; the session cookie authenticates it.
 */
export class LiveFeed {
  readonly services = new Map<string, ServiceStatusJson>();
  readonly builds = new Map<string, BuildJson>();
  connected = false;
  private socket: WebSocket | null = null;
  private readonly extras = new Map<string, Extra>();
  private readonly listeners = new Set<() => void>();
  private stopped = false;
  private retry: ReturnType<typeof setTimeout> | undefined;

  start(): void {
    this.stopped = false;
    this.open();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.retry);
    this.socket?.close();
    this.socket = null;
  }

  /** Calls `listener` after each change of the maps or the connection. */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  watch(kind: 'deployment' | 'build' | 'log', id: string, handler: Handler, offset?: number): () => void {
    const key = `${kind}:${id}`;
    const message = { subscribe: kind, id, ...(offset === undefined ? {} : { offset }) };
    this.extras.set(key, { message, handler });
    this.send(message);
    return () => {
      if (this.extras.get(key)?.handler !== handler) return;
      this.extras.delete(key);
      this.send({ unsubscribe: kind, id });
    };
  }

  private open(): void {
    const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
    const socket = new WebSocket(`${scheme}://${location.host}/v1/events`);
    this.socket = socket;
    socket.onopen = () => {
      this.connected = true;
      socket.send(JSON.stringify({ subscribe: 'fleet' }));
      for (const extra of this.extras.values()) socket.send(JSON.stringify(extra.message));
      this.changed();
    };
    socket.onmessage = (event) => this.receive(JSON.parse(String(event.data)) as ServerMessage);
    socket.onclose = () => {
      this.connected = false;
      this.changed();
      if (!this.stopped) this.retry = setTimeout(() => this.open(), 1_000);
    };
  }

  private receive(message: ServerMessage): void {
    switch (message.type) {
      case 'service-status':
        this.services.set(message.status.service, message.status);
        break;
      case 'build':
        this.builds.set(message.build.id, message.build);
        this.extras.get(`build:${message.build.id}`)?.handler(message);
        break;
      case 'deployment':
        this.extras.get(`deployment:${message.deployment.id}`)?.handler(message);
        break;
      case 'log':
      case 'log-end':
        this.extras.get(`log:${message.id}`)?.handler(message);
        break;
      case 'error':
        for (const [key, extra] of this.extras) if (message.id !== undefined && key.endsWith(`:${message.id}`)) extra.handler(message);
        break;
    }
    this.changed();
  }

  private send(message: Record<string, unknown>): void {
    if (this.socket?.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify(message));
  }

  private changed(): void {
    for (const listener of this.listeners) listener();
  }
}

export const live = new LiveFeed();
