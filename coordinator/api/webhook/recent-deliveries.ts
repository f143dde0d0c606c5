/**
 * Remembers what recent webhook deliveries queued, by delivery id, so that a redelivery (the
 * sender's retry, or a person pressing "Redeliver") queues nothing new and answers as the
 * first delivery did. Concurrent copies of one delivery share the first one's work. A
 * delivery whose work failed is forgotten, so its retry runs again.
 */
export class RecentDeliveries<T> {
  private readonly entries = new Map<string, Promise<T>>();

  /** @param capacity deliveries remembered; the oldest is forgotten first. */
  constructor(private readonly capacity = 1000) {}

  async run(id: string, work: () => Promise<T>): Promise<{ result: T; replay: boolean }> {
    const known = this.entries.get(id);
    if (known) return { result: await known, replay: true };
    const pending = work();
    this.entries.set(id, pending);
    if (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value!);
    try {
      return { result: await pending, replay: false };
    } catch (err) {
      if (this.entries.get(id) === pending) this.entries.delete(id);
      throw err;
    }
  }
}
