// Address lists for interval sets, kept packed: a GlobalNetworkSet may hold 1,000,000 nets, so IPv4
// prefixes live in a Float64Array as `start * 64 + prefixLength` (exact below 2^53), sorted numerically
// and merged in one sweep, with no object per net. IPv6 (rarely large) uses Buffer pairs.
// Merging joins overlapping and adjacent ranges: the kernel refuses overlaps (EEXIST) and nft's
// auto-merge is userspace only (nftables-netlink.md 3.2), so the set must be normalised here.
import { rangesToElements } from '../nftables/intervals';
import { ElementFlags, SetElement } from '../nftables/model';
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
    this.addPacked(start * 64 + prefix);
  }

  /** A key as fastv4.ts packedV4 gives it: start * 64 + prefix length. */
  addPacked(key: number): void {
    if (this.n4 === this.v4.length) this.reserve(1);
    this.v4[this.n4++] = key;
  }

  addAll(other: PrefixBag): void {
    this.reserve(other.n4);
    this.v4.set(other.v4.subarray(0, other.n4), this.n4);
    this.n4 += other.n4;
    for (const r of other.v6) this.v6.push(r);
  }

  private reserve(extra: number): void {
    if (this.n4 + extra <= this.v4.length) return;
    const grown = new Float64Array(Math.max(this.v4.length * 2, this.n4 + extra));
    grown.set(this.v4.subarray(0, this.n4));
    this.v4 = grown;
  }

  get size(): number {
    return this.n4 + this.v6.length;
  }

  merge(): AddressRanges {
    return { v4: mergeV4(this.v4.subarray(0, this.n4)), v6: mergeRanges(this.v6) };
  }

  /**
   * Single addresses apart from real prefixes (performance.md: a commit touching an interval set
   * costs O(n) in the kernel, a hash set element 10-60 us): the merged prefixes go to an interval
   * set, and the /32 and /128 entries that no prefix covers to a hash set, deduplicated.
   */
  split(): SplitAddresses {
    const keys = this.v4.subarray(0, this.n4);
    const prefixKeys = keys.filter((k) => k % 64 !== 32);
    const v4 = mergeV4(prefixKeys);
    const hosts = keys.filter((k) => k % 64 === 32).map((k) => (k - 32) / 64).sort();
    const v6Prefixes = this.v6.filter(([lo, hi]) => !lo.equals(hi));
    const v6 = mergeRanges(v6Prefixes);
    const v6Hosts = this.v6.filter(([lo, hi]) => lo.equals(hi)).map(([lo]) => lo).sort(Buffer.compare);
    return {
      prefixes: { v4, v6 },
      hosts: { v4: uncoveredV4(hosts, v4), v6: uncovered(v6Hosts, v6) },
    };
  }
}

/** Selector members: merged prefixes, and the single addresses outside them. */
export interface SplitAddresses {
  prefixes: AddressRanges;
  hosts: { v4: Float64Array; v6: Buffer[] };
}

export function hostCount(s: SplitAddresses, family: IpFamily): number {
  return family === 4 ? s.hosts.v4.length : s.hosts.v6.length;
}

/** Sorted addresses, deduplicated, without those inside the merged ranges. */
function uncoveredV4(sorted: Float64Array, ranges: Float64Array): Float64Array {
  const out = new Float64Array(sorted.length);
  let n = 0;
  let r = 0;
  for (let i = 0; i < sorted.length; i++) {
    const a = sorted[i];
    if (n > 0 && out[n - 1] === a) continue;
    while (r < ranges.length && ranges[r + 1] < a) r += 2;
    if (r < ranges.length && ranges[r] <= a) continue;
    out[n++] = a;
  }
  return out.slice(0, n);
}

function uncovered(sorted: Buffer[], ranges: Range[]): Buffer[] {
  const out: Buffer[] = [];
  let r = 0;
  for (const a of sorted) {
    if (out.length && out[out.length - 1].equals(a)) continue;
    while (r < ranges.length && Buffer.compare(ranges[r][1], a) < 0) r++;
    if (r < ranges.length && Buffer.compare(ranges[r][0], a) <= 0) continue;
    out.push(a);
  }
  return out;
}

/** Hash set elements for single addresses; IPv4 keys are views into one shared buffer. */
export function hostElements(s: SplitAddresses, family: IpFamily): SetElement[] {
  if (family === 6) return s.hosts.v6.map((key) => ({ key }));
  const v4 = s.hosts.v4;
  const keys = Buffer.allocUnsafe(v4.length * 4);
  const out: SetElement[] = new Array(v4.length);
  for (let i = 0; i < v4.length; i++) {
    keys.writeUInt32BE(v4[i], i * 4);
    out[i] = { key: keys.subarray(i * 4, i * 4 + 4) };
  }
  return out;
}

/** Merged, sorted, non-adjacent inclusive ranges per family. v4 is [lo0, hi0, lo1, hi1, ...]. */
export interface AddressRanges {
  v4: Float64Array;
  v6: Range[];
}

export function rangeCount(r: AddressRanges, family: IpFamily): number {
  return family === 4 ? r.v4.length / 2 : r.v6.length;
}

/** 2^(32 - p) for every prefix length p, so the sweep does no exponentiation. */
const V4_BLOCK = Array.from({ length: 33 }, (_, p) => 2 ** (32 - p));

function mergeV4(keys: Float64Array): Float64Array {
  const sorted = keys.slice().sort();
  const out = new Float64Array(sorted.length * 2);
  let n = 0;
  let lastHi = -2;
  for (let i = 0; i < sorted.length; i++) {
    const k = sorted[i];
    const prefix = k % 64;
    const lo = (k - prefix) / 64;
    const hi = lo + V4_BLOCK[prefix] - 1;
    if (lo <= lastHi + 1) {
      if (hi > lastHi) out[n - 1] = lastHi = hi;
    } else {
      out[n++] = lo;
      out[n++] = lastHi = hi;
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

const V4_MAX = 0xffffffff;

/**
 * The interval elements of one family of merged ranges, as intervalElements would give them. IPv4
 * takes a direct path for large sets: the ranges are already sorted, merged and non-adjacent, so the
 * elements are written in one pass with every key a view into one shared buffer (a million-net set
 * would otherwise cost several Buffer allocations per net).
 */
export function familyElements(r: AddressRanges, family: IpFamily): SetElement[] {
  if (family === 6) return intervalElements(r.v6);
  const v4 = r.v4;
  const ranges = v4.length / 2;
  if (ranges === 0) return [];
  const sentinel = v4[0] !== 0;
  const open = v4[v4.length - 1] === V4_MAX;
  const count = (sentinel ? 1 : 0) + ranges * 2 - (open ? 1 : 0);
  const keys = Buffer.allocUnsafe(count * 4);
  const out: SetElement[] = new Array(count);
  let n = 0;
  const key = (value: number): Buffer => {
    keys.writeUInt32BE(value, n * 4);
    return keys.subarray(n * 4, n * 4 + 4);
  };
  if (sentinel) {
    out[n] = { key: key(0), flags: ElementFlags.intervalEnd };
    n++;
  }
  for (let i = 0; i < v4.length; i += 2) {
    if (v4[i + 1] === V4_MAX) {
      out[n] = { key: key(v4[i]), open: true };
      n++;
      continue;
    }
    out[n] = { key: key(v4[i]) };
    n++;
    out[n] = { key: key(v4[i + 1] + 1), flags: ElementFlags.intervalEnd };
    n++;
  }
  return out;
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
