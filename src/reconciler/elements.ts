// Element deltas for one set whose definition is unchanged. Both sides are walked in key order: O(n)
// when already sorted (the committed state kept in memory is), O(n log n) after a dump, whose order
// the kernel does not guarantee (gnft #320). Keys are compared as numbers (keys up to 6 bytes: IPv4
// addresses, ports) or latin1 strings (IPv6, concatenations), never with Buffer.compare per pair:
// a 1,000,000-prefix set is 2,000,000 elements.
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

type Key = number | string;

const isEnd = (e: SetElement): boolean => ((e.flags ?? 0) & ElementFlags.intervalEnd) !== 0;

/** True when every key fits a JS number exactly (<= 6 bytes) and elements are identified by key alone. */
function numericKeys(...lists: ReadonlyArray<readonly SetElement[]>): boolean {
  for (const list of lists) {
    for (const e of list) {
      if (e.key.length > 6 || e.key.length === 0 || e.keyEnd !== undefined || ((e.flags ?? 0) & ElementFlags.catchall) !== 0) return false;
    }
  }
  return true;
}

function keyer(numeric: boolean): (e: SetElement) => Key {
  if (numeric) return (e) => e.key.readUIntBE(0, e.key.length);
  return (e) => `${e.key.toString('latin1')}|${e.keyEnd?.toString('latin1') ?? ''}|${(e.flags ?? 0) & ElementFlags.catchall}`;
}

/** Elements with their keys, in key order (end before start at one key, so a range closes before the next opens). */
function ordered(elements: readonly SetElement[], keyOf: (e: SetElement) => Key, endsFirst: boolean): { keys: Key[]; elems: readonly SetElement[] } {
  const keys = elements.map(keyOf);
  const rank = (i: number): number => (endsFirst && isEnd(elements[i]!) ? 0 : 1);
  let sorted = true;
  for (let i = 1; i < keys.length && sorted; i++) {
    if (keys[i - 1]! > keys[i]! || (keys[i - 1] === keys[i] && rank(i - 1) > rank(i))) sorted = false;
  }
  if (sorted) return { keys, elems: elements };
  const idx = keys.map((_, i) => i);
  idx.sort((a, b) => (keys[a]! < keys[b]! ? -1 : keys[a]! > keys[b]! ? 1 : rank(a) - rank(b)));
  return { keys: idx.map((i) => keys[i]!), elems: idx.map((i) => elements[i]!) };
}

/** Map data, verdict, open flag: compared only when a key is on both sides. */
function samePayload(a: SetElement, b: SetElement): boolean {
  if (a.data === undefined && b.data === undefined && a.verdict === undefined && b.verdict === undefined && !a.open && !b.open) return true;
  return valueKey({ data: a.data, verdict: a.verdict, open: a.open }) === valueKey({ data: b.data, verdict: b.verdict, open: b.open });
}

function diffExact(desiredIn: readonly SetElement[], liveIn: readonly SetElement[]): ElementDelta {
  const keyOf = keyer(numericKeys(desiredIn, liveIn));
  const d = ordered(desiredIn, keyOf, false);
  const l = ordered(liveIn, keyOf, false);
  const add: SetElement[] = [];
  const remove: SetElement[] = [];
  let i = 0;
  let j = 0;
  while (i < d.keys.length || j < l.keys.length) {
    const c = i >= d.keys.length ? 1 : j >= l.keys.length ? -1 : d.keys[i]! < l.keys[j]! ? -1 : d.keys[i]! > l.keys[j]! ? 1 : 0;
    if (c < 0) add.push(d.elems[i++]!);
    else if (c > 0) remove.push(l.elems[j++]!);
    else {
      // Same key, different data (a map element re-pointed): the kernel refuses to overwrite it
      // (EEXIST/EBUSY, K-api nft_add_set_elem), so it is deleted and re-added in the same batch.
      if (!samePayload(d.elems[i]!, l.elems[j]!)) {
        remove.push(l.elems[j]!);
        add.push(d.elems[i]!);
      }
      i++;
      j++;
    }
  }
  return { add, remove };
}

/**
 * Maximal runs of adjacent ranges, as parallel arrays (a big set has 100,000s of them: no object per
 * segment). Segment i runs from lo[i] up to end[i] exclusive (null: to the maximum key) and is made
 * of the elements elems[from[i]] .. elems[to[i] - 1], contiguous in key order.
 */
export interface Segments {
  lo: Key[];
  end: Array<Key | null>;
  from: number[];
  to: number[];
  elems: readonly SetElement[];
}

/** Cuts interval elements into merged segments. */
export function segmentsOf(elementsIn: readonly SetElement[], keyOf: (e: SetElement) => Key = keyer(numericKeys(elementsIn))): Segments {
  const { keys, elems } = ordered(elementsIn, keyOf, true);
  const out: Segments = { lo: [], end: [], from: [], to: [], elems };
  // Index of the segment being built, and whether its last range is still open (no end element yet).
  let cur = -1;
  let open = false;
  for (let i = 0; i < elems.length; i++) {
    const e = elems[i]!;
    const k = keys[i]!;
    if (isEnd(e)) {
      // An end with no open range is the zero sentinel (or a stray end): it belongs to no range.
      if (cur < 0 || !open) continue;
      out.end[cur] = k;
      out.to[cur] = i + 1;
      open = false;
      continue;
    }
    // A start continues the segment when a range is open (adjacent ranges whose shared end element
    // was omitted, as nft does in anonymous sets) or when it starts where the last range ended.
    if (!(cur >= 0 && (open || out.end[cur] === k))) {
      cur = out.lo.length;
      out.lo.push(k);
      out.from.push(i);
      out.end.push(null);
      out.to.push(i + 1);
    }
    out.end[cur] = null;
    out.to[cur] = i + 1;
    open = !e.open;
  }
  return out;
}

/**
 * Segments by element list. The committed view shares its sets' element lists with the desired state
 * they were committed from, so the next diff finds the live side's segments here instead of cutting
 * a big set again. Lists are never modified once built, which makes the list a safe key.
 */
const segmentCache = new WeakMap<readonly SetElement[], { numeric: boolean; segments: Segments }>();

function cachedSegments(elements: readonly SetElement[], numeric: boolean): Segments {
  const hit = segmentCache.get(elements);
  if (hit && hit.numeric === numeric) return hit.segments;
  const segments = segmentsOf(elements, keyer(numeric));
  segmentCache.set(elements, { numeric, segments });
  return segments;
}

function pushSegment(to: SetElement[], s: Segments, i: number): void {
  for (let k = s.from[i]!; k < s.to[i]!; k++) to.push(s.elems[k]!);
}

function diffIntervals(desired: readonly SetElement[], live: readonly SetElement[]): ElementDelta {
  const numeric = numericKeys(desired, live);
  const want = cachedSegments(desired, numeric);
  const have = cachedSegments(live, numeric);
  const add: SetElement[] = [];
  const remove: SetElement[] = [];
  let i = 0;
  let j = 0;
  const nw = want.lo.length;
  const nh = have.lo.length;
  while (i < nw || j < nh) {
    const c = i >= nw ? 1 : j >= nh ? -1 : want.lo[i]! < have.lo[j]! ? -1 : want.lo[i]! > have.lo[j]! ? 1 : 0;
    if (c < 0) {
      pushSegment(add, want, i++);
    } else if (c > 0) {
      pushSegment(remove, have, j++);
    } else {
      if (want.end[i] !== have.end[j]) {
        pushSegment(remove, have, j);
        pushSegment(add, want, i);
      }
      i++;
      j++;
    }
  }
  return { add, remove };
}
