// Splitting resources for content-addressed storage. A GlobalNetworkSet can hold a million nets;
// storing it whole in every revision would cost ~20 MB per revision even when one prefix changed.
// So every large list of strings in a resource (spec.nets, a rule's nets, ...) is cut out of the
// resource and split into chunks, each stored once under the SHA-256 of its JSON text.
//
// Chunk boundaries are content-defined, not every N items: an item ends a chunk when a hash of the
// item itself has its low bits set (as in rsync/restic content-defined chunking, here per item).
// Inserting or removing one prefix therefore changes only the chunk that holds it; every other
// chunk keeps its exact items and hash, whatever the order the user wrote them in (fixed-size
// chunks of an unsorted list would shift every chunk after the change).
//
// The list of chunk hashes is split the same way into chunk indexes (a two-level Merkle tree):
// a million nets make ~1,000 chunks, and writing all 1,000 hashes again for every revision would
// cost ~32 KB plus row overhead; with indexes a one-prefix change writes one chunk, one index of
// ~64 hashes and one short list of index hashes.
import type { Resource } from '../policy/model';
import { canonicalJson, sha256 } from './canonical';

/** Lists shorter than this stay inline in the resource's head: chunking them would not pay. */
export const LARGE_LIST_MIN = 1024;
/** An item ends a chunk when these hash bits are all set: about 1 in 1024, so chunks average ~1,024 items (~20 KB). */
const BOUNDARY_MASK = 1023;
/** A chunk is cut here even without a boundary item, so a run of unlucky items stays bounded. */
export const MAX_CHUNK_ITEMS = 4096;

/** An index ends after a chunk whose hash has these bits set in its first byte: ~64 chunks per index. */
const INDEX_BOUNDARY_MASK = 63;
export const MAX_INDEX_CHUNKS = 256;
/** Bytes of one SHA-256 digest: an index's `digests` is its chunks' hashes end to end. */
export const DIGEST_BYTES = 32;

export interface Chunk {
  hash: Buffer;
  /** JSON array text of the chunk's items. */
  body: string;
  itemCount: number;
}

export interface ChunkIndex {
  /** sha256 of `digests`. */
  hash: Buffer;
  chunks: Chunk[];
  /** The chunks' hashes, concatenated in order. */
  digests: Buffer;
  itemCount: number;
}

/** Where a list sits in its resource: object keys and array indexes from the root. */
export type ListPath = Array<string | number>;

export interface SplitResource {
  /** Canonical JSON of the resource with its large lists removed. */
  head: string;
  lists: Array<{ path: ListPath; indexes: ChunkIndex[] }>;
  /** Content address of the whole resource: sha256 of its canonical JSON when it has no large list. */
  hash: Buffer;
}

export function splitResource(resource: Resource): SplitResource {
  const found: Array<{ path: ListPath; items: string[] }> = [];
  const head = canonicalJson(withoutLargeLists(resource, [], found));
  const lists = found.map(({ path, items }) => ({ path, indexes: indexChunks(chunkItems(items)) }));
  if (lists.length === 0) return { head, lists, hash: sha256(head) };
  // The address covers the head and, in order, every list's index hashes: equal resources split
  // the same way (chunking is deterministic), so they get the same address.
  const manifest = canonicalJson(lists.map((l) => [l.path, l.indexes.map((x) => x.hash.toString('hex'))]));
  return { head, lists, hash: sha256(`${head}\n${manifest}`) };
}

/** Puts the lists back into the parsed head, giving the resource as it was committed. */
export function joinResource(head: string, lists: Array<{ path: ListPath; items: string[] }>): Resource {
  const resource = JSON.parse(head) as Resource;
  for (const { path, items } of lists) {
    let parent: Record<string | number, unknown> = resource as unknown as Record<string, unknown>;
    for (const step of path.slice(0, -1)) parent = parent[step] as Record<string | number, unknown>;
    parent[path[path.length - 1] as string] = items;
  }
  return resource;
}

export function chunkItems(items: readonly string[]): Chunk[] {
  const chunks: Chunk[] = [];
  let start = 0;
  for (let i = 0; i < items.length; i++) {
    const atBoundary = (itemHash(items[i] as string) & BOUNDARY_MASK) === BOUNDARY_MASK;
    if (atBoundary || i + 1 - start === MAX_CHUNK_ITEMS || i + 1 === items.length) {
      const body = JSON.stringify(items.slice(start, i + 1));
      chunks.push({ hash: sha256(body), body, itemCount: i + 1 - start });
      start = i + 1;
    }
  }
  return chunks;
}

/** Groups chunks into indexes, cut by content like the chunks themselves. */
export function indexChunks(chunks: readonly Chunk[]): ChunkIndex[] {
  const indexes: ChunkIndex[] = [];
  let start = 0;
  for (let i = 0; i < chunks.length; i++) {
    const firstByte = (chunks[i] as Chunk).hash[0] as number;
    const atBoundary = (firstByte & INDEX_BOUNDARY_MASK) === INDEX_BOUNDARY_MASK;
    if (atBoundary || i + 1 - start === MAX_INDEX_CHUNKS || i + 1 === chunks.length) {
      const members = chunks.slice(start, i + 1);
      const digests = Buffer.concat(members.map((c) => c.hash));
      const itemCount = members.reduce((n, c) => n + c.itemCount, 0);
      indexes.push({ hash: sha256(digests), chunks: members, digests, itemCount });
      start = i + 1;
    }
  }
  return indexes;
}

/** A copy of `value` without its large string lists, which are pushed to `found` with their path. */
function withoutLargeLists(value: unknown, path: ListPath, found: Array<{ path: ListPath; items: string[] }>): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v, i) => withoutLargeLists(v, [...path, i], found));
  const copy: Record<string, unknown> = {};
  // Keys in sorted order, so equal resources list their large lists in the same order.
  for (const key of Object.keys(value).sort()) {
    const member = (value as Record<string, unknown>)[key];
    if (isLargeStringList(member)) found.push({ path: [...path, key], items: member });
    else copy[key] = withoutLargeLists(member, [...path, key], found);
  }
  return copy;
}

function isLargeStringList(value: unknown): value is string[] {
  return Array.isArray(value) && value.length >= LARGE_LIST_MIN && value.every((v) => typeof v === 'string');
}

/** FNV-1a over the UTF-16 code units, then murmur3's fmix32 so the low bits depend on every char. */
function itemHash(item: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < item.length; i++) {
    h ^= item.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
