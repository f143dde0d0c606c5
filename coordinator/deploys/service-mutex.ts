/**
 * One deploy or rollback of a service at a time in this coordinator: the goal writes of two
 * requests must not interleave region by region. Across coordinators the goal's
 * compare-and-set is the guard (the loser gets GOAL_CONFLICT).
 */
export class ServiceMutex {
  private readonly tails = new Map<string, Promise<void>>();

  async run<T>(service: string, work: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(service) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((resolve) => (release = resolve));
    const tail = previous.then(() => mine);
    this.tails.set(service, tail);
    await previous;
    try {
      return await work();
    } finally {
      release();
      if (this.tails.get(service) === tail) this.tails.delete(service);
    }
  }
}
