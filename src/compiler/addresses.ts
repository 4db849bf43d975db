// Address lists for interval sets, kept packed: a GlobalNetworkSet may hold 1,000,000 nets, so IPv4
// prefixes live in a Float64Array as `start * 64 + prefixLength` (exact below 2^53), sorted numerically
// and merged in one sweep, with no object per net. IPv6 (rarely large) uses Buffer pairs.
// Merging joins overlapping and adjacent ranges: the kernel refuses overlaps (EEXIST) and nft's
// auto-merge is userspace only (nftables-netlink.md 3.2), so the set must be normalised here.
import { rangesToElements } from '../nftables/intervals';
import { SetElement } from '../nftables/model';
import { Cidr } from '../policy/nets';
import { IpFamily } from './exprs';

export type Range = [lo: Buffer, hi: Buffer];

/** Prefixes as parsed, not yet merged. */
export class PrefixBag {
  private v4 = new Float64Array(8);
  private n4 = 0;
  private readonly v6: Range[] = [];

  add(c: Cidr): void {
    if (c.family === 4) this.addV4(c.addr.readUInt32BE(0), c.prefix);
    else this.v6.push(v6Range(c.addr, c.prefix));
  }

  addV4(start: number, prefix: number): void {
    if (this.n4 === this.v4.length) {
      const grown = new Float64Array(this.v4.length * 2);
      grown.set(this.v4);
      this.v4 = grown;
    }
    this.v4[this.n4++] = start * 64 + prefix;
  }

  addAll(other: PrefixBag): void {
    for (let i = 0; i < other.n4; i++) this.addV4(Math.floor(other.v4[i] / 64), other.v4[i] % 64);
    this.v6.push(...other.v6);
  }

  get size(): number {
    return this.n4 + this.v6.length;
  }

  merge(): AddressRanges {
    return { v4: mergeV4(this.v4.subarray(0, this.n4)), v6: mergeRanges(this.v6) };
  }
}

/** Merged, sorted, non-adjacent inclusive ranges per family. v4 is [lo0, hi0, lo1, hi1, ...]. */
export interface AddressRanges {
  v4: Float64Array;
  v6: Range[];
}

export function rangeCount(r: AddressRanges, family: IpFamily): number {
  return family === 4 ? r.v4.length / 2 : r.v6.length;
}

function mergeV4(keys: Float64Array): Float64Array {
  const sorted = Float64Array.from(keys).sort();
  const out = new Float64Array(sorted.length * 2);
  let n = 0;
  for (let i = 0; i < sorted.length; i++) {
    const lo = Math.floor(sorted[i] / 64);
    const hi = lo + 2 ** (32 - (sorted[i] % 64)) - 1;
    if (n > 0 && lo <= out[n - 1] + 1) {
      if (hi > out[n - 1]) out[n - 1] = hi;
    } else {
      out[n++] = lo;
      out[n++] = hi;
    }
  }
  return out.slice(0, n);
}

function v6Range(addr: Buffer, prefix: number): Range {
  const hi = Buffer.from(addr);
  for (let b = 0; b < 16; b++) hi[b] |= 0xff >> Math.min(8, Math.max(0, prefix - b * 8));
  return [Buffer.from(addr), hi];
}

/** Is b exactly a + 1 (big-endian)? */
function isSuccessor(a: Buffer, b: Buffer): boolean {
  let carry = 1;
  for (let i = a.length - 1; i >= 0; i--) {
    const v = a[i] + carry;
    if ((v & 0xff) !== b[i]) return false;
    carry = v >> 8;
  }
  return carry === 0;
}

/** Sorts and merges overlapping or adjacent ranges of equal key length. */
export function mergeRanges(ranges: readonly Range[]): Range[] {
  const sorted = [...ranges].sort((a, b) => Buffer.compare(a[0], b[0]) || Buffer.compare(b[1], a[1]));
  const out: Range[] = [];
  for (const [lo, hi] of sorted) {
    const last = out[out.length - 1];
    if (last && (Buffer.compare(lo, last[1]) <= 0 || isSuccessor(last[1], lo))) {
      if (Buffer.compare(hi, last[1]) > 0) last[1] = hi;
    } else {
      out.push([lo, hi]);
    }
  }
  return out;
}

/** The ranges of one family as Buffer pairs (IPv4 keys are views into one shared buffer). */
export function familyRanges(r: AddressRanges, family: IpFamily): Range[] {
  if (family === 6) return r.v6;
  const n = r.v4.length / 2;
  const keys = Buffer.allocUnsafe(n * 8);
  const out: Range[] = new Array(n);
  for (let i = 0; i < n; i++) {
    keys.writeUInt32BE(r.v4[2 * i], 8 * i);
    keys.writeUInt32BE(r.v4[2 * i + 1], 8 * i + 4);
    out[i] = [keys.subarray(8 * i, 8 * i + 4), keys.subarray(8 * i + 4, 8 * i + 8)];
  }
  return out;
}

/** Interval set elements for a freshly created set (zero sentinel, open last range: nftables-netlink.md 3.2). */
export function intervalElements(ranges: Range[]): SetElement[] {
  return rangesToElements(ranges, { fresh: true });
}

/** The prefix length when [lo, hi] is exactly one CIDR, else undefined. */
export function exactPrefix(lo: Buffer, hi: Buffer): number | undefined {
  let prefix = 0;
  let i = 0;
  while (i < lo.length && lo[i] === hi[i]) i++;
  prefix = i * 8;
  if (i === lo.length) return prefix;
  const diff = lo[i] ^ hi[i];
  // The differing bits must be a run of low bits: lo has them 0, hi has them 1.
  const bits = 32 - Math.clz32(diff);
  if ((diff & (diff + 1)) !== 0 || (lo[i] & diff) !== 0 || (hi[i] & diff) !== diff) return undefined;
  prefix += 8 - bits;
  for (let j = i + 1; j < lo.length; j++) if (lo[j] !== 0 || hi[j] !== 0xff) return undefined;
  return prefix;
}

/** A stable text of the ranges, for content-derived set names. */
export function rangesFingerprint(ranges: readonly Range[]): string {
  return ranges.map(([lo, hi]) => `${lo.toString('hex')}-${hi.toString('hex')}`).join(',');
}
