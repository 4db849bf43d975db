import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Store } from '../../src/store';
import { assertStoreError, networkSet, policy, prefixes, tempDir } from './helpers';

describe('Store', () => {
  let store: Store;
  beforeEach(() => {
    store = Store.open(':memory:');
  });
  afterEach(() => store.close());

  describe('Store#commit()', () => {
    it('makes revisions numbered 1, 2, 3 whose newest is current()', () => {
      assert.equal(store.current(), undefined);
      const first = store.commit({ resources: [policy('a')], source: 'cli apply' });
      const second = store.commit({ resources: [policy('a'), policy('b')], source: 'cli apply' });
      assert.deepEqual([first.revision, second.revision], [1, 2]);
      const current = store.current();
      assert.equal(current?.revision, 2);
      assert.deepEqual(current?.resources, [policy('a'), policy('b')]);
    });

    it('records time, source, actor and comment, and gives them back from get() and history()', () => {
      const before = Date.now();
      const r = store.commit({
        resources: [policy('a')],
        source: 'cli apply: policy.yaml',
        actor: { uid: 1000, pid: 4242, name: 'flockguard' },
        comment: 'open 443',
      });
      const got = store.get(r.revision);
      assert.equal(got?.source, 'cli apply: policy.yaml');
      assert.deepEqual(got?.actor, { uid: 1000, pid: 4242, name: 'flockguard' });
      assert.equal(got?.comment, 'open 443');
      assert.equal(got?.resourceCount, 1);
      const at = Date.parse(got?.createdAt ?? '');
      assert.ok(at >= before - 1 && at <= Date.now(), `createdAt ${got?.createdAt}`);
      assert.deepEqual(store.history()[0], {
        revision: r.revision,
        createdAt: r.createdAt,
        source: 'cli apply: policy.yaml',
        actor: { uid: 1000, pid: 4242, name: 'flockguard' },
        comment: 'open 443',
        resourceCount: 1,
      });
    });

    it('leaves actor and comment out when they were not given', () => {
      const r = store.commit({ resources: [], source: 'netset add' });
      const got = store.get(r.revision);
      assert.equal(got && 'actor' in got, false);
      assert.equal(got && 'comment' in got, false);
    });

    it('gives back each resource as committed, large lists included, in commit order', () => {
      const nets = prefixes(30_000);
      const resources = [networkSet('big', nets), policy('z'), networkSet('small', ['192.0.2.0/24'])];
      store.commit({ resources, source: 'cli apply' });
      const loaded = store.current()?.resources;
      assert.deepEqual(loaded, resources);
    });

    it('commits an empty desired state as a revision of its own', () => {
      store.commit({ resources: [policy('a')], source: 'cli apply' });
      store.commit({ resources: [], source: 'cli delete' });
      assert.deepEqual(store.current()?.resources, []);
      assert.equal(store.get(1)?.resources.length, 1);
    });

    it('refuses two resources of one kind and name, and stores nothing of that commit', () => {
      assertStoreError(
        () => store.commit({ resources: [policy('a'), policy('b'), policy('a', 80)], source: 'cli apply' }),
        'STORE_DUPLICATE_RESOURCE',
        /GlobalNetworkPolicy\/a appears twice \(resources\[2\]\)/,
      );
      assert.equal(store.current(), undefined);
      assert.deepEqual(store.history(), []);
    });

    it('refuses a commit without a source or with a bad actor, saying which field', () => {
      assertStoreError(() => store.commit({ resources: [], source: ' ' }), 'STORE_INVALID_INPUT', /source must say/);
      assertStoreError(() => store.commit({ resources: [], source: 'x', actor: { uid: -1 } }), 'STORE_INVALID_INPUT', /actor\.uid .* -1/);
      assert.deepEqual(store.history(), []);
    });
  });

  describe('Store#history()', () => {
    it('lists revisions newest first, all of them or the newest `limit`', () => {
      for (const source of ['one', 'two', 'three']) store.commit({ resources: [], source });
      assert.deepEqual(store.history().map((r) => [r.revision, r.source]), [[3, 'three'], [2, 'two'], [1, 'one']]);
      assert.deepEqual(store.history(2).map((r) => r.revision), [3, 2]);
      assertStoreError(() => store.history(0), 'STORE_INVALID_INPUT', /positive integer/);
    });
  });

  describe('Store#get()', () => {
    it('returns undefined for a revision that does not exist', () => {
      store.commit({ resources: [], source: 'x' });
      assert.equal(store.get(2), undefined);
      assert.equal(store.get(0), undefined);
    });

    it('keeps earlier revisions unchanged as later ones change shared content', () => {
      const nets = prefixes(10_000);
      store.commit({ resources: [networkSet('big', nets), policy('a')], source: 'one' });
      const changed = [...nets];
      changed[5000] = '192.0.2.0/24';
      store.commit({ resources: [networkSet('big', changed), policy('a', 80)], source: 'two' });
      assert.deepEqual(store.get(1)?.resources, [networkSet('big', nets), policy('a')]);
      assert.deepEqual(store.get(2)?.resources, [networkSet('big', changed), policy('a', 80)]);
    });
  });

  describe('Store#rollback()', () => {
    it('makes a NEW revision equal to the old one and keeps the ones in between', () => {
      store.commit({ resources: [policy('a', 443)], source: 'cli apply' });
      store.commit({ resources: [policy('a', 80), networkSet('s', ['10.0.0.0/8'])], source: 'cli apply' });
      const back = store.rollback(1, { source: 'rollback', actor: { uid: 0 } });
      assert.equal(back.revision, 3);
      assert.equal(back.comment, 'rollback to revision 1');
      assert.deepEqual(back.actor, { uid: 0 });
      assert.deepEqual(back.resources, [policy('a', 443)]);
      assert.equal(store.current()?.revision, 3);
      assert.deepEqual(store.get(2)?.resources, [policy('a', 80), networkSet('s', ['10.0.0.0/8'])]);
    });

    it('refuses a revision that does not exist with STORE_NO_REVISION and what to do', () => {
      store.commit({ resources: [], source: 'x' });
      assertStoreError(() => store.rollback(7, { source: 'rollback' }), 'STORE_NO_REVISION', /revision 7 does not exist.*flockguard history/);
      assert.equal(store.history().length, 1);
    });
  });

  describe('Store#close()', () => {
    it('makes later calls fail with STORE_CLOSED', () => {
      store.close();
      assertStoreError(() => store.current(), 'STORE_CLOSED', /closed/);
      assertStoreError(() => store.commit({ resources: [], source: 'x' }), 'STORE_CLOSED');
    });
  });
});

describe('Store.open()', () => {
  let tmp: ReturnType<typeof tempDir>;
  beforeEach(() => {
    tmp = tempDir();
  });
  afterEach(() => tmp.cleanup());

  it('keeps revisions across close and reopen of a file, in WAL mode at the latest schema', () => {
    const path = join(tmp.dir, 'state.db');
    const s = Store.open(path);
    s.commit({ resources: [networkSet('big', prefixes(5000))], source: 'cli apply', comment: 'first' });
    s.close();
    const again = Store.open(path);
    assert.equal(again.current()?.comment, 'first');
    assert.deepEqual(again.current()?.resources, [networkSet('big', prefixes(5000))]);
    assert.equal(again.schemaVersion(), 1);
    again.close();
    const raw = new Database(path, { readonly: true });
    assert.equal(raw.pragma('journal_mode', { simple: true }), 'wal');
    raw.close();
  });

  it('reports a file that is not a database as STORE_CORRUPT, with what to do', () => {
    const path = join(tmp.dir, 'state.db');
    writeFileSync(path, Buffer.alloc(8192, 0x41));
    assertStoreError(() => Store.open(path), 'STORE_CORRUPT', /restore it from a backup/);
  });

  it('reports a directory that does not exist as STORE_OPEN_FAILED', () => {
    assertStoreError(() => Store.open(join(tmp.dir, 'missing', 'state.db')), 'STORE_OPEN_FAILED', /directory .*missing does not exist/);
  });

  it('reports a missing chunk as STORE_CORRUPT instead of returning a short list', () => {
    const path = join(tmp.dir, 'state.db');
    const s = Store.open(path);
    s.commit({ resources: [networkSet('big', prefixes(20_000))], source: 'x' });
    s.close();
    const raw = new Database(path);
    raw.pragma('foreign_keys = OFF');
    raw.prepare('DELETE FROM chunks WHERE rowid = (SELECT max(rowid) FROM chunks)').run();
    raw.close();
    const damaged = Store.open(path);
    assertStoreError(() => damaged.current(), 'STORE_CORRUPT', /revision 1, GlobalNetworkSet\/big .* missing/);
    assert.equal(damaged.history().length, 1, 'history still lists the revision');
    damaged.close();
  });

  it('reports STORE_BUSY when another process holds the write lock past the busy timeout, and commits nothing', () => {
    const path = join(tmp.dir, 'state.db');
    const store = Store.open(path, { busyTimeoutMs: 50 });
    const other = new Database(path);
    other.exec('BEGIN IMMEDIATE');
    assertStoreError(() => store.commit({ resources: [policy('a')], source: 'x' }), 'STORE_BUSY', /locked by another process.*retry/);
    other.exec('ROLLBACK');
    other.close();
    assert.deepEqual(store.history(), []);
    assert.equal(store.commit({ resources: [policy('a')], source: 'x' }).revision, 1, 'works once the lock is gone');
    store.close();
  });

  it('lets a second store on the same file see the first one\'s commits', () => {
    const path = join(tmp.dir, 'state.db');
    const writer = Store.open(path);
    const reader = Store.open(path);
    writer.commit({ resources: [policy('a')], source: 'x' });
    assert.equal(reader.current()?.revision, 1);
    writer.close();
    reader.close();
  });
});
