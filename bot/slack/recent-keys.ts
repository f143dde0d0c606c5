export interface RecentKeysOptions {
  /** How long a key is remembered. */
  ttlMs: number;
  /** Past this many keys the oldest are forgotten first, so a flood cannot exhaust memory. @defaultValue 100_000 */
  maxKeys?: number;
  /** @defaultValue Date.now */
  now?: () => number;
}

/** Keys seen within a time window: "has this request (signature, trigger id) come before?". */
export class RecentKeys {
  // A Map keeps insertion order, and every key lives equally long: the oldest are at the front.
  private readonly expiries = new Map<string, number>();
  private readonly maxKeys: number;
  private readonly now: () => number;

  constructor(private readonly options: RecentKeysOptions) {
    this.maxKeys = options.maxKeys ?? 100_000;
    this.now = options.now ?? Date.now;
  }

  /** True the first time a key is seen within the window; remembers it. */
  firstTime(key: string): boolean {
    const now = this.now();
    this.forgetExpired(now);
    if (this.expiries.has(key)) return false;
    this.expiries.set(key, now + this.options.ttlMs);
    while (this.expiries.size > this.maxKeys) this.expiries.delete(this.expiries.keys().next().value!);
    return true;
  }

  get size(): number {
    return this.expiries.size;
  }

  private forgetExpired(now: number): void {
    for (const [key, expiry] of this.expiries) {
      if (expiry > now) return;
      this.expiries.delete(key);
    }
  }
}
