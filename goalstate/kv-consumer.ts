import type { QueuedIterator } from '@nats-io/nats-core';

/**
 * What @nats-io/kv 3.x keeps on the iterator of a watch() or history() as `_data`: the ordered
 * push consumer behind it (its own history() relies on that field). Two things fleetcast needs
 * are only there: how many entries were pending when the consumer was created, and deleting it.
 */
export interface KvConsumer {
  /** `cached`: the info from the consumer's creation, without a request. */
  info(cached?: boolean): Promise<{ num_pending: number }>;
  delete(): Promise<boolean>;
}

/** The consumer behind a KV iterator, or undefined if this client release keeps it elsewhere. */
export function kvConsumer(iterator: QueuedIterator<unknown>): KvConsumer | undefined {
  const data = (iterator as { _data?: Partial<KvConsumer> })._data;
  return typeof data?.info === 'function' && typeof data.delete === 'function' ? (data as KvConsumer) : undefined;
}

/**
 * Deletes the consumer of a KV iterator that is done with. Needed with 3.x: its ordered
 * consumers ask the server to keep them for 5 minutes without interest (2.x's went after ~5 s),
 * so every restarted watch — each agent's, after each reconnect — would leave one behind, and
 * consumers are what a leaf's memory goes to (~40 KB each). Best effort: a consumer that went
 * with its server is not an error, and the server drops the rest after those 5 minutes anyway.
 */
export async function releaseKvConsumer(iterator: QueuedIterator<unknown>): Promise<void> {
  try {
    await kvConsumer(iterator)?.delete();
  } catch {
    // Already gone (the server restarted) or not reachable now: it expires by itself.
  }
}
