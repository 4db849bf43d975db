import assert from 'node:assert/strict';
import { canonicalJson } from '../../src/store';
import { chunkItems, indexChunks, joinResource, LARGE_LIST_MIN, MAX_CHUNK_ITEMS, MAX_INDEX_CHUNKS, splitResource } from '../../src/store/chunking';
import { networkSet, policy, prefixes } from './helpers';

function chunkHashes(items: string[]): Set<string> {
  return new Set(chunkItems(items).map((c) => c.hash.toString('hex')));
}

function newChunks(before: string[], after: string[]): number {
  const old = chunkHashes(before);
  return [...chunkHashes(after)].filter((h) => !old.has(h)).length;
}

describe('chunkItems()', () => {
  const nets = prefixes(100_000);

  it('covers every item once, in order, in chunks no larger than the cap', () => {
    const chunks = chunkItems(nets);
    assert.deepEqual(chunks.flatMap((c) => JSON.parse(c.body) as string[]), nets);
    assert.ok(chunks.every((c) => c.itemCount <= MAX_CHUNK_ITEMS && c.itemCount === (JSON.parse(c.body) as string[]).length));
    assert.ok(chunks.length > 10, `100,000 items should make many chunks, got ${chunks.length}`);
  });

  it('changes one chunk when one prefix is replaced, inserted or removed anywhere', () => {
    for (const at of [0, 777, 50_000, 99_999]) {
      const replaced = [...nets];
      replaced[at] = '192.0.2.0/24';
      const inserted = [...nets.slice(0, at), '198.51.100.0/24', ...nets.slice(at)];
      const removed = [...nets.slice(0, at), ...nets.slice(at + 1)];
      // One changed chunk, or two when the edited item was (or became) a boundary and two chunks merge or split.
      for (const [what, after] of [['replaced', replaced], ['inserted', inserted], ['removed', removed]] as const) {
        const fresh = newChunks(nets, after);
        assert.ok(fresh >= 1 && fresh <= 2, `${what} at ${at}: ${fresh} new chunks`);
      }
    }
  });

  it('cuts chunks by content, so the same items chunk the same way after the list grows in front', () => {
    const grown = [...prefixes(3, 500_000), ...nets];
    assert.ok(newChunks(nets, grown) <= 2);
  });
});

describe('indexChunks()', () => {
  const chunks = chunkItems(prefixes(300_000));

  it('lists every chunk once, in order, with the item counts and digests that describe them', () => {
    const indexes = indexChunks(chunks);
    assert.deepEqual(indexes.flatMap((x) => x.chunks), chunks);
    for (const x of indexes) {
      assert.ok(x.chunks.length <= MAX_INDEX_CHUNKS);
      assert.deepEqual(x.digests, Buffer.concat(x.chunks.map((c) => c.hash)));
      assert.equal(x.itemCount, x.chunks.reduce((n, c) => n + c.itemCount, 0));
    }
    assert.ok(indexes.length > 1 && indexes.length < chunks.length, `${chunks.length} chunks in ${indexes.length} indexes`);
  });

  it('changes one or two indexes when one prefix changes', () => {
    const nets = prefixes(300_000);
    nets[123_456] = '192.0.2.0/24';
    const before = new Set(indexChunks(chunks).map((x) => x.hash.toString('hex')));
    const fresh = indexChunks(chunkItems(nets)).filter((x) => !before.has(x.hash.toString('hex')));
    assert.ok(fresh.length >= 1 && fresh.length <= 2, `${fresh.length} new indexes`);
  });
});

describe('splitResource() / joinResource()', () => {
  it('keeps small resources whole: the hash is the sha256 of their canonical JSON', () => {
    const p = policy('web');
    const split = splitResource(p);
    assert.equal(split.lists.length, 0);
    assert.equal(split.head, canonicalJson(p));
    assert.deepEqual(joinResource(split.head, []), p);
  });

  it('cuts out every large string list, wherever it is, and puts it back in place', () => {
    const p = policy('many');
    p.spec.ingress = [{ action: 'Deny', source: { nets: prefixes(LARGE_LIST_MIN + 5, 7) } }, ...(p.spec.ingress ?? [])];
    const set = networkSet('big', prefixes(20_000));
    for (const resource of [p, set]) {
      const split = splitResource(resource);
      assert.equal(split.lists.length, 1);
      assert.ok(!split.head.includes('.0/24'), 'the head holds no list items');
      const lists = split.lists.map((l) => ({ path: l.path, items: l.indexes.flatMap((x) => x.chunks).flatMap((c) => JSON.parse(c.body) as string[]) }));
      assert.deepEqual(joinResource(split.head, lists), resource);
    }
    assert.deepEqual(splitResource(p).lists[0]?.path, ['spec', 'ingress', 0, 'source', 'nets']);
  });

  it('gives equal resources the same hash and different resources different ones', () => {
    const a = networkSet('big', prefixes(5000));
    const b = JSON.parse(JSON.stringify({ spec: a.spec, kind: a.kind, metadata: a.metadata, apiVersion: a.apiVersion }));
    assert.deepEqual(splitResource(a).hash, splitResource(b).hash);
    const c = networkSet('big', prefixes(5000), { role: 'other' });
    assert.notDeepEqual(splitResource(a).hash, splitResource(c).hash);
  });
});
