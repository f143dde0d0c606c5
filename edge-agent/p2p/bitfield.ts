/** Which blocks a machine holds: one bit per block. */
export class Bitfield {
  readonly bytes: Uint8Array;
  private set_ = 0;

  constructor(
    readonly length: number,
    bytes?: Uint8Array,
  ) {
    this.bytes = new Uint8Array(Math.ceil(length / 8));
    if (bytes) this.bytes.set(bytes.subarray(0, this.bytes.byteLength));
    // Bits past the end never count.
    if (length % 8 !== 0 && this.bytes.byteLength > 0) this.bytes[this.bytes.byteLength - 1]! &= (1 << (length % 8)) - 1;
    for (let i = 0; i < length; i++) if (this.get(i)) this.set_++;
  }

  get(index: number): boolean {
    return index >= 0 && index < this.length && (this.bytes[index >> 3]! & (1 << (index & 7))) !== 0;
  }

  set(index: number, value = true): void {
    if (index < 0 || index >= this.length || this.get(index) === value) return;
    if (value) this.bytes[index >> 3]! |= 1 << (index & 7);
    else this.bytes[index >> 3]! &= ~(1 << (index & 7));
    this.set_ += value ? 1 : -1;
  }

  /** Blocks held. */
  get count(): number {
    return this.set_;
  }

  get complete(): boolean {
    return this.set_ === this.length;
  }

  /** Blocks 0… held without a gap. */
  contiguous(): number {
    let index = 0;
    while (index < this.length && this.get(index)) index++;
    return index;
  }

  static full(length: number): Bitfield {
    const field = new Bitfield(length);
    for (let i = 0; i < length; i++) field.set(i);
    return field;
  }
}
