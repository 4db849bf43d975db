// The nf_tables register file as format.ts follows it: 16 slots of 4 bytes, where NFT_REG_1..4 are
// 16 bytes each and alias NFT_REG32_00..15 (include/uapi/linux/netfilter/nf_tables.h; nft
// netlink_put_register). A write forgets every value it overlaps, so a value is only ever read
// back while it is really still there.

/** NFT_REG32_COUNT * 4: a write of unknown length is assumed to reach the end of the file. */
export const UNKNOWN_LEN = 64;

/** The first 4-byte slot of a register. */
export const slot = (reg: number): number => (reg >= 8 ? reg - 8 : (reg - 1) * 4);

const slots = (len: number): number => Math.max(1, Math.ceil(len / 4));

export interface Held<T> {
  value: T;
  /** Bytes written. */
  len: number;
  /** Set once a compare, lookup or set statement has read the value. */
  used: boolean;
}

export class Registers<T> {
  private readonly held = new Map<number, Held<T>>();

  get(reg: number): Held<T> | undefined {
    return this.held.get(reg);
  }

  /** Records a write of `len` bytes to `reg`; `value` undefined when what was written is unknown. */
  write(reg: number, len: number, value?: T): void {
    const [a, b] = [slot(reg), slot(reg) + slots(len)];
    for (const [r, h] of this.held) {
      if (slot(r) < b && a < slot(r) + slots(h.len)) this.held.delete(r);
    }
    if (value !== undefined) this.held.set(reg, { value, len, used: false });
  }

  /** An expression we cannot see into may have written anywhere. */
  clear(): void {
    this.held.clear();
  }

  /**
   * The values a lookup on `reg` reads: the value in `reg`, then each unused value that starts
   * where the previous one ends (nft puts the fields of a concatenation in consecutive slots, each
   * rounded up to 4 bytes). Without the set's key length this is how far the key plausibly goes.
   */
  concatenation(reg: number): Array<Held<T>> {
    const first = this.held.get(reg);
    if (!first) return [];
    const parts = [first];
    let next = slot(reg) + slots(first.len);
    for (;;) {
      const follow = [...this.held].find(([r, h]) => slot(r) === next && !h.used);
      if (!follow) return parts;
      parts.push(follow[1]);
      next += slots(follow[1].len);
    }
  }
}
