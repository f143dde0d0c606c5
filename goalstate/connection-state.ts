import type { NatsConnection, Status } from '@nats-io/nats-core';

/**
 * Follows a connection's status events: whether it is connected right now, and a callback when
 * it is back. A request sent while the client is reconnecting is buffered and its reply lost
 * (measured: it times out after the full timeout, though the server is back within 300 ms), so
 * callers skip work while disconnected and redo it on reconnect instead.
 */
export class ConnectionState {
  private isConnected = true;
  private readonly listeners = new Set<() => void>();
  private readonly iterator: AsyncIterable<Status> & { stop?: () => void };

  constructor(nc: NatsConnection) {
    this.isConnected = !nc.isClosed();
    // The client's status iterator has stop(), though its declared type does not say so.
    this.iterator = nc.status() as AsyncIterable<Status> & { stop?: () => void };
    void this.follow();
  }

  get connected(): boolean {
    return this.isConnected;
  }

  /** Calls `listener` each time the connection is re-established; returns an unsubscribe function. */
  onReconnect(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  stop(): void {
    this.listeners.clear();
    this.iterator.stop?.();
  }

  private async follow(): Promise<void> {
    for await (const event of this.iterator) {
      if (event.type === 'disconnect') this.isConnected = false;
      if (event.type === 'reconnect') {
        this.isConnected = true;
        for (const listener of this.listeners) listener();
      }
    }
    this.isConnected = false;
  }
}
