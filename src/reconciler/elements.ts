// Element deltas for one set whose definition is unchanged. Both sides are walked in key order
// (O(n) when already sorted, as the committed state kept in memory is; O(n log n) after a dump, whose
// order the kernel does not guarantee, gnft #320).
//
// Interval sets (rbtree; nft intervals.c) hold a range [lo, hi] as a start element `lo` and an end
// element `hi + 1` flagged INTERVAL_END, or as a single start flagged INTERVAL_OPEN when hi is the
// maximum key. Both sides are cut into segments (maximal runs of adjacent ranges, with the exact
// elements that make them up) and compared segment by segment: a live segment that is not exactly
// desired is deleted with all its elements (start AND end), a desired one that is not live is added
// with its own elements. So an added range never leaves a duplicate or overlapping end element next
// to a kept one: ranges adjacent to a change are merged into the changed segment and resent.
// The lone end element at key 0 that nft sends into a fresh set (the "sentinel") is never deleted.
import { ElementFlags, NftSet, SetElement, SetFlags } from '../nftables/model';
import { valueKey } from './rule-key';

export interface ElementDelta {
  add: SetElement[];
  remove: SetElement[];
}

/** Interval sets with one-field keys use start/end elements; concatenated ones (pipapo) carry keyEnd and compare element by element. */
export function isIntervalSet(s: NftSet): boolean {
  return (s.flags & SetFlags.interval) !== 0 && (s.flags & SetFlags.concat) === 0;
}

export function diffElements(set: NftSet, desired: readonly SetElement[], live: readonly SetElement[]): ElementDelta {
  return isIntervalSet(set) ? diffIntervals(desired, live) : diffExact(desired, live);
}

const isEnd = (e: SetElement): boolean => ((e.flags ?? 0) & ElementFlags.intervalEnd) !== 0;

function compareBuffers(a: Buffer | undefined, b: Buffer | undefined): number {
  if (a === undefined || b === undefined) return a === b ? 0 : a === undefined ? -1 : 1;
  return Buffer.compare(a, b);
}

/** Identity of an element in a non-interval set: key, key end, catch-all flag. */
function compareIdentity(a: SetElement, b: SetElement): number {
  return compareBuffers(a.key, b.key) || compareBuffers(a.keyEnd, b.keyEnd)
    || (((a.flags ?? 0) & ElementFlags.catchall) - ((b.flags ?? 0) & ElementFlags.catchall));
}

function sortedBy<T>(items: readonly T[], cmp: (a: T, b: T) => number): readonly T[] {
  for (let i = 1; i < items.length; i++) {
    if (cmp(items[i - 1]!, items[i]!) > 0) return [...items].sort(cmp);
  }
  return items;
}

function payloadKey(e: SetElement): string {
  return valueKey({ data: e.data, verdict: e.verdict, open: e.open, flags: (e.flags ?? 0) & ~ElementFlags.catchall || undefined });
}

function diffExact(desiredIn: readonly SetElement[], liveIn: readonly SetElement[]): ElementDelta {
  const desired = sortedBy(desiredIn, compareIdentity);
  const live = sortedBy(liveIn, compareIdentity);
  const add: SetElement[] = [];
  const remove: SetElement[] = [];
  let i = 0;
  let j = 0;
  while (i < desired.length || j < live.length) {
    const c = i >= desired.length ? 1 : j >= live.length ? -1 : compareIdentity(desired[i]!, live[j]!);
    if (c < 0) add.push(desired[i++]!);
    else if (c > 0) remove.push(live[j++]!);
    else {
      // Same key, different data (a map element re-pointed): the kernel refuses to overwrite it
      // (EEXIST/EBUSY, K-api nft_add_set_elem), so it is deleted and re-added in the same batch.
      if (payloadKey(desired[i]!) !== payloadKey(live[j]!)) {
        remove.push(live[j]!);
        add.push(desired[i]!);
      }
      i++;
      j++;
    }
  }
  return { add, remove };
}

/** A maximal run of adjacent ranges: from `lo` up to `end` exclusive (undefined: to the maximum key). */
interface Segment {
  lo: Buffer;
  end: Buffer | undefined;
  elements: SetElement[];
}

/** Orders by key; at one key an end element (closing the range below) precedes a start. */
function compareIntervalElements(a: SetElement, b: SetElement): number {
  return Buffer.compare(a.key, b.key) || (isEnd(b) ? 1 : 0) - (isEnd(a) ? 1 : 0);
}

/** Cuts interval elements into merged segments. Exported for tests. */
export function segmentsOf(elementsIn: readonly SetElement[]): Segment[] {
  const elements = sortedBy(elementsIn, compareIntervalElements);
  const ranges: Segment[] = [];
  let open: Segment | undefined;
  for (const e of elements) {
    if (isEnd(e)) {
      // An end with no open range is the zero sentinel (or a stray end): it belongs to no range.
      if (!open) continue;
      open.end = e.key;
      open.elements.push(e);
      ranges.push(open);
      open = undefined;
      continue;
    }
    // A start while a range is open: adjacent ranges whose shared end element was omitted
    // (nft does that in anonymous sets).
    if (open) {
      open.end = e.key;
      ranges.push(open);
    }
    open = { lo: e.key, end: undefined, elements: [e] };
    if (e.open) {
      ranges.push(open);
      open = undefined;
    }
  }
  if (open) ranges.push(open);
  return mergeAdjacent(ranges);
}

function mergeAdjacent(ranges: Segment[]): Segment[] {
  const out: Segment[] = [];
  for (const r of ranges) {
    const last = out[out.length - 1];
    if (last && last.end !== undefined && last.end.equals(r.lo)) {
      last.end = r.end;
      last.elements.push(...r.elements);
    } else {
      out.push({ ...r, elements: [...r.elements] });
    }
  }
  return out;
}

function diffIntervals(desired: readonly SetElement[], live: readonly SetElement[]): ElementDelta {
  const want = segmentsOf(desired);
  const have = segmentsOf(live);
  const add: SetElement[] = [];
  const remove: SetElement[] = [];
  let i = 0;
  let j = 0;
  while (i < want.length || j < have.length) {
    const w = want[i];
    const h = have[j];
    const c = !w ? 1 : !h ? -1 : Buffer.compare(w.lo, h.lo);
    if (c < 0) {
      add.push(...w!.elements);
      i++;
    } else if (c > 0) {
      remove.push(...h!.elements);
      j++;
    } else {
      if (compareBuffers(w!.end, h!.end) !== 0) {
        remove.push(...h!.elements);
        add.push(...w!.elements);
      }
      i++;
      j++;
    }
  }
  return { add, remove };
}
