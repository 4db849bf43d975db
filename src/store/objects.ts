// Reading and writing resources in content-addressed form (schema: migrations/0001_init.sql).
// Writing is split in two: `prepareObject` does the CPU work (canonical JSON, chunking, hashing)
// outside any transaction, `ObjectRepository#put` only inserts what is new, inside one.
import type BetterSqlite3 from 'better-sqlite3';
import type { Resource } from '../policy/model';
import { ChunkIndex, DIGEST_BYTES, joinResource, ListPath, splitResource, SplitResource } from './chunking';
import { StoreError } from './errors';

export interface PreparedObject extends SplitResource {
  kind: string;
  name: string;
}

export function prepareObject(resource: Resource): PreparedObject {
  return { ...splitResource(resource), kind: resource.kind, name: resource.metadata.name };
}

interface ObjectRow {
  hash: Buffer;
  kind: string;
  name: string;
  head: string;
}

interface ListRow {
  list_path: string;
  ordinal: number;
  chunk_count: number | null;
  item_count: number | null;
  digests: Buffer | null;
}

interface ChunkRow {
  item_count: number;
  body: string;
}

export class ObjectRepository {
  private readonly insertObject: BetterSqlite3.Statement<[Buffer, string, string, string]>;
  private readonly insertIndex: BetterSqlite3.Statement<[Buffer, number, number, Buffer]>;
  private readonly insertChunk: BetterSqlite3.Statement<[Buffer, number, string]>;
  private readonly insertList: BetterSqlite3.Statement<[Buffer, string, number, Buffer]>;
  private readonly selectObjects: BetterSqlite3.Statement<[number], ObjectRow>;
  private readonly selectLists: BetterSqlite3.Statement<[Buffer], ListRow>;
  private readonly selectChunk: BetterSqlite3.Statement<[Buffer], ChunkRow>;

  constructor(db: BetterSqlite3.Database, private readonly path: string) {
    this.insertObject = db.prepare('INSERT OR IGNORE INTO objects (hash, kind, name, head) VALUES (?, ?, ?, ?)');
    this.insertIndex = db.prepare('INSERT OR IGNORE INTO chunk_indexes (hash, chunk_count, item_count, digests) VALUES (?, ?, ?, ?)');
    this.insertChunk = db.prepare('INSERT OR IGNORE INTO chunks (hash, item_count, body) VALUES (?, ?, ?)');
    this.insertList = db.prepare('INSERT INTO object_lists (object_hash, list_path, ordinal, index_hash) VALUES (?, ?, ?, ?)');
    this.selectObjects = db.prepare(
      'SELECT o.hash, o.kind, o.name, o.head FROM revision_objects ro JOIN objects o ON o.hash = ro.object_hash ' +
        'WHERE ro.revision = ? ORDER BY ro.ordinal',
    );
    // LEFT JOIN: a missing index shows up as NULLs, reported as damage instead of a short list.
    this.selectLists = db.prepare(
      'SELECT ol.list_path, ol.ordinal, ci.chunk_count, ci.item_count, ci.digests FROM object_lists ol ' +
        'LEFT JOIN chunk_indexes ci ON ci.hash = ol.index_hash WHERE ol.object_hash = ? ORDER BY ol.list_path, ol.ordinal',
    );
    this.selectChunk = db.prepare('SELECT item_count, body FROM chunks WHERE hash = ?');
  }

  /** Stores the object unless its content is already there. Call inside a write transaction. */
  put(object: PreparedObject): void {
    if (this.insertObject.run(object.hash, object.kind, object.name, object.head).changes === 0) return;
    for (const list of object.lists) {
      const listPath = JSON.stringify(list.path);
      list.indexes.forEach((index, ordinal) => {
        this.putIndex(index);
        this.insertList.run(object.hash, listPath, ordinal, index.hash);
      });
    }
  }

  /** The resources of a revision in commit order. Call inside a read transaction for a consistent view. */
  loadRevision(revision: number): Resource[] {
    return this.selectObjects.all(revision).map((row) => this.loadObject(row, revision));
  }

  /** An index already stored was stored with all its chunks (same transaction), so they are skipped. */
  private putIndex(index: ChunkIndex): void {
    if (this.insertIndex.run(index.hash, index.chunks.length, index.itemCount, index.digests).changes === 0) return;
    for (const chunk of index.chunks) this.insertChunk.run(chunk.hash, chunk.itemCount, chunk.body);
  }

  private loadObject(row: ObjectRow, revision: number): Resource {
    const lists: Array<{ path: ListPath; items: string[] }> = [];
    let current: { key: string; items: string[]; indexes: number } | undefined;
    for (const list of this.selectLists.all(row.hash)) {
      if (current?.key !== list.list_path) {
        current = { key: list.list_path, items: [], indexes: 0 };
        lists.push({ path: JSON.parse(list.list_path) as ListPath, items: current.items });
      }
      const where = `index ${list.ordinal} of list ${list.list_path}`;
      if (list.digests === null || list.ordinal !== current.indexes++ || list.digests.length !== (list.chunk_count ?? 0) * DIGEST_BYTES) {
        throw this.damaged(row, revision, `${where} is missing or cut short`);
      }
      const before = current.items.length;
      for (let at = 0; at < list.digests.length; at += DIGEST_BYTES) {
        this.appendChunk(list.digests.subarray(at, at + DIGEST_BYTES), current.items, row, revision, where);
      }
      if (current.items.length - before !== list.item_count) throw this.damaged(row, revision, `${where} holds fewer items than recorded`);
    }
    return joinResource(row.head, lists);
  }

  private appendChunk(hash: Buffer, into: string[], row: ObjectRow, revision: number, where: string): void {
    const chunk = this.selectChunk.get(hash);
    const items = chunk && (JSON.parse(chunk.body) as string[]);
    if (!chunk || !items || items.length !== chunk.item_count) {
      throw this.damaged(row, revision, `chunk ${hash.toString('hex').slice(0, 12)} of ${where} is missing or cut short`);
    }
    for (const item of items) into.push(item);
  }

  private damaged(row: ObjectRow, revision: number, what: string): StoreError {
    return new StoreError(
      'STORE_CORRUPT',
      `revision ${revision}, ${row.kind}/${row.name} (object ${row.hash.toString('hex').slice(0, 12)}): ${what}; ` +
        `the revision store ${this.path} is damaged: restore it from a backup, or roll back to a revision that loads`,
      { path: this.path, revision },
    );
  }
}
