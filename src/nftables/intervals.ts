// nft's interval encoding for rbtree sets (nft intervals.c setelem_to_interval, set_to_intervals):
// an inclusive range [lo, hi] becomes a start element `lo` and an end element `hi + 1` flagged
// INTERVAL_END. A range that runs to the maximum key has no end element (hi + 1 would overflow);
// its start carries the userdata flag INTERVAL_OPEN instead. Filling a fresh set whose lowest range
// does not start at zero begins with a zero-key end element, so that the space below the first range
// is explicitly "outside". Keys compare as unsigned big-endian byte strings (memcmp), as the kernel's
// rbtree does.
import { NftCodecError } from './message';
import { ElementFlags, SetElement } from './model';

export type Range = [lo: Buffer, hi: Buffer];

/**
 * Elements for non-overlapping inclusive ranges of equal key length, sorted by start. Adjacent
 * ranges stay separate (an end and a start at the same key). Overlapping ranges are refused: the
 * kernel would answer EEXIST, and merging them silently would store something else than asked.
 */
export function rangesToElements(ranges: Array<[lo: Buffer, hi: Buffer]>, opts: { fresh: boolean }): SetElement[] {
  const sorted = checkedSort(ranges);
  const out: SetElement[] = [];
  if (opts.fresh && sorted.length && !isZero(sorted[0][0])) {
    out.push({ key: Buffer.alloc(sorted[0][0].length), flags: ElementFlags.intervalEnd });
  }
  for (const [lo, hi] of sorted) {
    const end = increment(hi);
    if (end) {
      out.push({ key: lo });
      out.push({ key: end, flags: ElementFlags.intervalEnd });
    } else {
      out.push({ key: lo, open: true });
    }
  }
  return out;
}

function checkedSort(ranges: Array<[Buffer, Buffer]>): Array<[Buffer, Buffer]> {
  // Lists usually arrive sorted (a compiler normalises them); sort a copy only when they are not.
  const sorted = isSorted(ranges) ? ranges : [...ranges].sort((a, b) => Buffer.compare(a[0], b[0]));
  for (let i = 0; i < sorted.length; i++) {
    const [lo, hi] = sorted[i];
    if (lo.length !== hi.length || lo.length !== sorted[0][0].length) {
      throw new NftCodecError(`interval ${hex(lo)}-${hex(hi)}: key lengths differ`, 'NFT_INTERVAL_BAD');
    }
    if (Buffer.compare(lo, hi) > 0) throw new NftCodecError(`interval ${hex(lo)}-${hex(hi)}: start above end`, 'NFT_INTERVAL_BAD');
    if (i > 0 && Buffer.compare(sorted[i - 1][1], lo) >= 0) {
      const [plo, phi] = sorted[i - 1];
      throw new NftCodecError(
        `intervals ${hex(plo)}-${hex(phi)} and ${hex(lo)}-${hex(hi)} overlap: merge them first`,
        'NFT_INTERVAL_OVERLAP',
      );
    }
  }
  return sorted;
}

/**
 * Inclusive ranges, sorted, from elements as a dump returns them (in any order, gnft #320): ends sort
 * before starts at the same key; an end with no open range (the zero sentinel) is skipped; a start
 * that is still open at the next start or at the end of the list runs to just below that start, or
 * to the maximum key. Concatenated-range elements (with keyEnd) are ranges themselves.
 */
export function elementsToRanges(elems: SetElement[]): Array<[Buffer, Buffer]> {
  if (elems.some((e) => e.keyEnd)) {
    return elems.filter((e) => e.keyEnd).map((e) => [e.key, e.keyEnd as Buffer] as Range).sort((a, b) => Buffer.compare(a[0], b[0]));
  }
  const sorted = [...elems].sort(
    (a, b) => Buffer.compare(a.key, b.key) || ((b.flags ?? 0) & ElementFlags.intervalEnd) - ((a.flags ?? 0) & ElementFlags.intervalEnd),
  );
  const out: Range[] = [];
  let open: Buffer | undefined;
  for (const e of sorted) {
    if ((e.flags ?? 0) & ElementFlags.intervalEnd) {
      if (open) out.push([open, decrement(e.key)]);
      open = undefined;
      continue;
    }
    if (open) out.push([open, decrement(e.key)]);
    open = e.key;
  }
  if (open) out.push([open, Buffer.alloc(open.length, 0xff)]);
  return out;
}

function isSorted(ranges: Array<[Buffer, Buffer]>): boolean {
  for (let i = 1; i < ranges.length; i++) if (Buffer.compare(ranges[i - 1][0], ranges[i][0]) > 0) return false;
  return true;
}

function isZero(b: Buffer): boolean {
  for (const x of b) if (x) return false;
  return true;
}

/** b + 1 as a big-endian number, or undefined when b is all ones. */
export function increment(b: Buffer): Buffer | undefined {
  const out = Buffer.from(b);
  for (let i = out.length - 1; i >= 0; i--) {
    if (out[i] !== 0xff) {
      out[i]++;
      return out;
    }
    out[i] = 0;
  }
  return undefined;
}

/** b - 1 as a big-endian number; b must not be zero. */
export function decrement(b: Buffer): Buffer {
  const out = Buffer.from(b);
  for (let i = out.length - 1; i >= 0; i--) {
    if (out[i] !== 0) {
      out[i]--;
      return out;
    }
    out[i] = 0xff;
  }
  throw new NftCodecError('interval end element at key zero closes nothing');
}

function hex(b: Buffer): string {
  return b.toString('hex');
}
