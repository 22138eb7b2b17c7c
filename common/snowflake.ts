// 64-bit time-ordered ids: 41 bits of milliseconds since EPOCH, 10 bits node id, 12 bits sequence.
const EPOCH = 1767225600000n; // 2026-01-01T00:00:00Z

export class Snowflake {
  private lastMs = -1n;
  private seq = 0n;

  constructor(private readonly node: number, private readonly now: () => number = Date.now) {
    if (!Number.isInteger(node) || node < 0 || node > 1023) throw new RangeError('node id must be 0..1023');
  }

  next(): string {
    let ms = BigInt(this.now());
    if (ms < this.lastMs) ms = this.lastMs; // clock stepped back: keep ids monotonic
    if (ms === this.lastMs) {
      this.seq = (this.seq + 1n) & 0xfffn;
      if (this.seq === 0n) ms = this.lastMs + 1n; // 4096 ids used up in this ms: borrow the next one
    } else {
      this.seq = 0n;
    }
    this.lastMs = ms;
    return (((ms - EPOCH) << 22n) | (BigInt(this.node) << 12n) | this.seq).toString();
  }
}

/** The creation time encoded in a snowflake id. */
export function snowflakeTime(id: string): Date {
  return new Date(Number((BigInt(id) >> 22n) + EPOCH));
}
