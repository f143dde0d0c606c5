/** What a machine knows of one peer of a core: what it holds, and how busy it is with this machine's requests. */
export interface BlockHolder {
  /** It holds every block (a seeder, or a machine that finished). */
  readonly complete: boolean;
  has(index: number): boolean;
  /** This machine's requests in flight to it. */
  readonly inflight: number;
  /** Requests Hypercore keeps in flight to it at most. */
  readonly maxInflight: number;
}

export interface BlockPickerOptions {
  /** The first pending blocks (in file order) a pick chooses from. @defaultValue 512 */
  lookahead?: number;
  /** Random numbers in [0, 1). @defaultValue Math.random */
  random?: () => number;
}

/**
 * Chooses which block a machine requests next, so that the peers still downloading serve each
 * other and the complete peers (seeders) send blocks no one else has.
 *
 * Hypercore sends a request at once to a peer that holds the block and has a free slot (the
 * peers tried in a random order), keeps it pending until one has, and never moves it once sent;
 * and whenever a slot frees, that peer takes any pending request it can serve. A seeder can
 * serve them all: with blocks chosen blind, requests for blocks a neighbour held went to the
 * seeder as often as not, the neighbours' upload idled, and a seeder sent each block to three
 * of four machines of a region (bench/p2p, BENCHMARKS.md). So a block is picked only when a
 * peer can take its request now, among the first `lookahead` missing blocks:
 * - while a complete peer has a free slot: a random block no downloading peer holds (machines
 *   that pick at the same moment rarely pick the same one, so seeders send few blocks twice);
 * - else the earliest block a downloading peer with a free slot holds (the prefix grows);
 * - else none: ask again when a request ended or a peer announced more.
 */
export class BlockPicker {
  /** Blocks not picked yet, in file order. */
  private readonly pending: number[];
  private readonly lookahead: number;
  private readonly random: () => number;

  constructor(missing: readonly number[], options: BlockPickerOptions = {}) {
    this.pending = [...missing].sort((a, b) => a - b);
    this.lookahead = options.lookahead ?? 512;
    this.random = options.random ?? Math.random;
  }

  /** Blocks not picked yet. */
  get remaining(): number {
    return this.pending.length;
  }

  /** The next block to request, or null: none should go out now (ask again when something changed). */
  pick(peers: readonly BlockHolder[]): number | null {
    const free = (peer: BlockHolder) => peer.inflight < peer.maxInflight;
    const downloading = peers.filter((peer) => !peer.complete);
    const freeDownloading = downloading.filter(free);
    const completeFree = peers.some((peer) => peer.complete && free(peer));
    const end = Math.min(this.lookahead, this.pending.length);
    const unheld: number[] = [];
    let earliestHeld: number | undefined;
    for (let position = 0; position < end; position++) {
      const index = this.pending[position]!;
      if (!downloading.some((peer) => peer.has(index))) unheld.push(position);
      else if (earliestHeld === undefined && freeDownloading.some((peer) => peer.has(index))) earliestHeld = position;
    }
    if (completeFree && unheld.length > 0) return this.take(unheld[Math.floor(this.random() * unheld.length)]!);
    if (earliestHeld !== undefined) return this.take(earliestHeld);
    return null;
  }

  /** A picked block goes back (its request failed, was stuck, or was never sent). */
  giveBack(index: number): void {
    let at = this.pending.length;
    while (at > 0 && this.pending[at - 1]! > index) at--;
    if (this.pending[at - 1] !== index) this.pending.splice(at, 0, index);
  }

  private take(position: number): number {
    return this.pending.splice(position, 1)[0]!;
  }
}
