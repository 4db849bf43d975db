// Reading and writing resources in content-addressed form (schema: migrations/0001_init.sql).
// Writing is split in two: `prepareObject` does the CPU work (canonical JSON, chunking, hashing)
// outside any transaction, `ObjectRepository#put` only inserts what is new, inside one.
import type BetterSqlite3 from 'better-sqlite3';
import type { Resource } from '../policy/model';
import { joinResource, ListPath, splitResource, SplitResource } from './chunking';
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

interface ChunkRow {
  list_path: string;
  ordinal: number;
  item_count: number | null;
  body: string | null;
}

export class ObjectRepository {
  private readonly insertObject: BetterSqlite3.Statement<[Buffer, string, string, string]>;
  private readonly insertChunk: BetterSqlite3.Statement<[Buffer, number, string]>;
  private readonly insertObjectChunk: BetterSqlite3.Statement<[Buffer, string, number, Buffer]>;
  private readonly selectObjects: BetterSqlite3.Statement<[number], ObjectRow>;
  private readonly selectChunks: BetterSqlite3.Statement<[Buffer], ChunkRow>;

  constructor(db: BetterSqlite3.Database, private readonly path: string) {
    this.insertObject = db.prepare('INSERT OR IGNORE INTO objects (hash, kind, name, head) VALUES (?, ?, ?, ?)');
    this.insertChunk = db.prepare('INSERT OR IGNORE INTO chunks (hash, item_count, body) VALUES (?, ?, ?)');
    this.insertObjectChunk = db.prepare('INSERT INTO object_chunks (object_hash, list_path, ordinal, chunk_hash) VALUES (?, ?, ?, ?)');
    this.selectObjects = db.prepare(
      'SELECT o.hash, o.kind, o.name, o.head FROM revision_objects ro JOIN objects o ON o.hash = ro.object_hash ' +
        'WHERE ro.revision = ? ORDER BY ro.ordinal',
    );
    // LEFT JOIN: a missing chunk shows up as a NULL body, reported as damage instead of a short list.
    this.selectChunks = db.prepare(
      'SELECT oc.list_path, oc.ordinal, c.item_count, c.body FROM object_chunks oc LEFT JOIN chunks c ON c.hash = oc.chunk_hash ' +
        'WHERE oc.object_hash = ? ORDER BY oc.list_path, oc.ordinal',
    );
  }

  /** Stores the object unless its content is already there. Call inside a write transaction. */
  put(object: PreparedObject): void {
    if (this.insertObject.run(object.hash, object.kind, object.name, object.head).changes === 0) return;
    for (const list of object.lists) {
      const listPath = JSON.stringify(list.path);
      list.chunks.forEach((chunk, ordinal) => {
        this.insertChunk.run(chunk.hash, chunk.itemCount, chunk.body);
        this.insertObjectChunk.run(object.hash, listPath, ordinal, chunk.hash);
      });
    }
  }

  /** The resources of a revision in commit order. Call inside a read transaction for a consistent view. */
  loadRevision(revision: number): Resource[] {
    return this.selectObjects.all(revision).map((row) => this.loadObject(row, revision));
  }

  private loadObject(row: ObjectRow, revision: number): Resource {
    const lists: Array<{ path: ListPath; items: string[] }> = [];
    let current: { key: string; items: string[]; chunks: number } | undefined;
    for (const chunk of this.selectChunks.all(row.hash)) {
      if (current?.key !== chunk.list_path) {
        current = { key: chunk.list_path, items: [], chunks: 0 };
        lists.push({ path: JSON.parse(chunk.list_path) as ListPath, items: current.items });
      }
      const items = chunk.body === null ? undefined : (JSON.parse(chunk.body) as string[]);
      if (items === undefined || items.length !== chunk.item_count || chunk.ordinal !== current.chunks++) {
        throw this.damaged(row, revision, `chunk ${chunk.ordinal} of list ${chunk.list_path} is missing or cut short`);
      }
      for (const item of items) current.items.push(item);
    }
    return joinResource(row.head, lists);
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
