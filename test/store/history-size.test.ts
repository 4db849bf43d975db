import assert from 'node:assert/strict';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Store } from '../../src/store';
import { MAX_CHUNK_ITEMS } from '../../src/store/chunking';
import { databaseFileBytes, networkSet, policy, prefixes, tempDir } from './helpers';

/** Bytes of list data the store holds, and the database file's size once the WAL is folded in. */
function storageOf(path: string): { chunkBytes: number; chunks: number; fileBytes: number } {
  const fileBytes = databaseFileBytes(path);
  const db = new Database(path, { readonly: true });
  const row = db.prepare('SELECT count(*) AS chunks, coalesce(sum(length(body)), 0) AS chunkBytes FROM chunks').get() as { chunks: number; chunkBytes: number };
  db.close();
  return { ...row, fileBytes };
}

describe('Store history cost', () => {
  let tmp: ReturnType<typeof tempDir>;
  beforeEach(() => {
    tmp = tempDir();
  });
  afterEach(() => tmp.cleanup());

  it('stores a one-prefix change to a 100,000-net set as about one chunk, not another copy', () => {
    const path = join(tmp.dir, 'state.db');
    const store = Store.open(path);
    const nets = prefixes(100_000);
    store.commit({ resources: [networkSet('big', nets), policy('web')], source: 'cli apply' });
    const first = storageOf(path);
    // One chunk holds at most MAX_CHUNK_ITEMS nets of at most 18 characters plus quotes and comma.
    const maxChunkBytes = MAX_CHUNK_ITEMS * 21;
    let before = first;
    for (let r = 2; r <= 20; r++) {
      nets[(r * 4999) % nets.length] = `192.0.${r}.0/24`;
      store.commit({ resources: [networkSet('big', nets), policy('web')], source: 'netset add' });
      const after = storageOf(path);
      assert.ok(after.chunks - before.chunks <= 2, `revision ${r} added ${after.chunks - before.chunks} chunks`);
      assert.ok(after.chunkBytes - before.chunkBytes <= 2 * maxChunkBytes, `revision ${r} added ${after.chunkBytes - before.chunkBytes} bytes of chunks`);
      before = after;
    }
    assert.ok(before.fileBytes < 2 * first.fileBytes, `19 one-prefix revisions add less than one copy: 20 take ${before.fileBytes} bytes, the first alone ${first.fileBytes}`);
    assert.deepEqual(store.current()?.resources, [networkSet('big', nets), policy('web')]);
    store.close();
  });

  it('stores nothing new but the revision row when content repeats (rollback, re-apply)', () => {
    const path = join(tmp.dir, 'state.db');
    const store = Store.open(path);
    store.commit({ resources: [networkSet('big', prefixes(20_000))], source: 'cli apply' });
    store.commit({ resources: [networkSet('big', prefixes(20_000, 1))], source: 'cli apply' });
    const before = storageOf(path);
    store.rollback(1, { source: 'rollback' });
    store.commit({ resources: [networkSet('big', prefixes(20_000, 1))], source: 'cli apply' });
    assert.deepEqual(storageOf(path).chunks, before.chunks);
    assert.equal(store.history().length, 4);
    store.close();
  });
});
