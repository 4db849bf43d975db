// The revision store: every accepted push is a revision; the newest is the desired state.
//
// Durability: WAL journal with synchronous=FULL, so a commit that returned survives a crash of the
// process and of the machine (NORMAL would be safe against process crashes only: the last commits
// could roll back on power loss, and an acknowledged firewall change must not). Each commit is one
// transaction: a reader or a crash sees a revision whole or not at all.
import Database from 'better-sqlite3';
import type BetterSqlite3 from 'better-sqlite3';
import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Resource } from '../policy/model';
import { resourceKey } from '../policy/model';
import { StoreError, toStoreError } from './errors';
import { defaultMigrationsDir, loadMigrations, migrate, schemaVersion } from './migrate';
import { ObjectRepository, prepareObject, PreparedObject } from './objects';
import type { Actor, CommitInput, Revision, RevisionInfo, RollbackInput } from './types';

export interface StoreOptions {
  /** Folder of NNNN_*.sql files; defaults to <package root>/migrations. */
  migrationsDir?: string;
  /** How long to wait for another process's write lock before STORE_BUSY, in ms. */
  busyTimeoutMs?: number;
}

interface RevisionRow {
  revision: number;
  created_at: string;
  source: string;
  actor_uid: number | null;
  actor_pid: number | null;
  actor_name: string | null;
  comment: string | null;
  resource_count: number;
}

const REVISION_COLUMNS = 'revision, created_at, source, actor_uid, actor_pid, actor_name, comment, resource_count';

export class Store {
  private readonly objects: ObjectRepository;
  private readonly statements: ReturnType<typeof prepareStatements>;

  private constructor(
    private readonly db: BetterSqlite3.Database,
    private readonly path: string,
  ) {
    this.objects = new ObjectRepository(db, path);
    this.statements = prepareStatements(db);
  }

  /** Opens (creating if needed) the store at `path`, or ':memory:', and brings its schema up to date. */
  static open(path: string, options: StoreOptions = {}): Store {
    const migrations = loadMigrations(options.migrationsDir ?? defaultMigrationsDir());
    if (path !== ':memory:' && !existsSync(dirname(path))) {
      throw new StoreError('STORE_OPEN_FAILED', `cannot open the revision store ${path}: its directory ${dirname(path)} does not exist; create it (mode 0700) or choose another path`, { path });
    }
    let db: BetterSqlite3.Database | undefined;
    try {
      db = new Database(path);
      db.pragma(`busy_timeout = ${options.busyTimeoutMs ?? 5000}`);
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = FULL');
      // A 1M-net first commit grows the WAL to ~20 MB; let it shrink back after checkpoints.
      db.pragma('journal_size_limit = 8388608');
      db.pragma('foreign_keys = ON');
      migrate(db, migrations, { path });
      return new Store(db, path);
    } catch (err) {
      db?.close();
      throw toStoreError(err, 'open', path) ?? err;
    }
  }

  schemaVersion(): number {
    return this.guard('schemaVersion', () => schemaVersion(this.db));
  }

  /** The newest revision, which is the desired state; undefined before the first commit. */
  current(): Revision | undefined {
    return this.guard('current', () =>
      this.db.transaction(() => {
        const row = this.statements.newest.get();
        return row && this.withResources(row);
      })(),
    );
  }

  get(revision: number): Revision | undefined {
    return this.guard(`get revision ${revision}`, () =>
      this.db.transaction(() => {
        const row = this.statements.byNumber.get(revision);
        return row && this.withResources(row);
      })(),
    );
  }

  /** Revisions newest first, `limit` of them (all when absent). */
  history(limit?: number): RevisionInfo[] {
    if (limit !== undefined && !(Number.isInteger(limit) && limit > 0)) {
      throw new StoreError('STORE_INVALID_INPUT', `history: limit must be a positive integer, got ${String(limit)}; leave it out to list every revision`);
    }
    return this.guard('history', () => this.statements.newestFirst.all(limit ?? -1).map(toInfo));
  }

  /**
   * Records `resources` as the new desired state. Returns the revision with the caller's resource
   * objects (not a re-read copy: the store holds the same content, canonically).
   */
  commit(input: CommitInput): Revision {
    validateCommit(input);
    // Hashing and chunking run before the write transaction opens, so the lock is held only for inserts.
    const prepared = input.resources.map(prepareObject);
    return this.guard('commit', () => {
      const write = this.db.transaction((objects: PreparedObject[]) => {
        const revision = this.insertRevision(input, objects.length);
        objects.forEach((object, ordinal) => {
          this.objects.put(object);
          this.statements.insertMember.run(revision, ordinal, object.hash);
        });
        return revision;
      });
      const row = this.statements.byNumber.get(write.immediate(prepared));
      return { ...toInfo(row as RevisionRow), resources: [...input.resources] };
    });
  }

  /** Makes a NEW revision whose content equals revision `to`; earlier revisions stay as they were. */
  rollback(to: number, input: RollbackInput): Revision {
    validateSource('rollback', input.source);
    validateActor('rollback', input.actor);
    return this.guard(`rollback to revision ${to}`, () => {
      const write = this.db.transaction(() => {
        const target = this.statements.byNumber.get(to);
        if (!target) throw this.noRevision(to);
        const comment = input.comment ?? `rollback to revision ${to}`;
        const revision = this.insertRevision({ ...input, comment, resources: [] }, target.resource_count);
        this.statements.copyMembers.run(revision, to);
        return revision;
      });
      const revision = write.immediate();
      return this.get(revision) as Revision;
    });
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  private insertRevision(input: CommitInput, resourceCount: number): number {
    const { actor } = input;
    const result = this.statements.insertRevision.run(
      new Date().toISOString(),
      input.source,
      actor?.uid ?? null,
      actor?.pid ?? null,
      actor?.name ?? null,
      input.comment ?? null,
      resourceCount,
    );
    return Number(result.lastInsertRowid);
  }

  private withResources(row: RevisionRow): Revision {
    const resources = this.objects.loadRevision(row.revision);
    if (resources.length !== row.resource_count) {
      throw new StoreError(
        'STORE_CORRUPT',
        `revision ${row.revision} should hold ${row.resource_count} resources but ${resources.length} were found; ` +
          `the revision store ${this.path} is damaged: restore it from a backup, or roll back to a revision that loads`,
        { path: this.path, revision: row.revision },
      );
    }
    return { ...toInfo(row), resources };
  }

  private noRevision(revision: number): StoreError {
    return new StoreError(
      'STORE_NO_REVISION',
      `revision ${revision} does not exist in ${this.path}; list the revisions there are with \`flockguard history\``,
      { path: this.path, revision },
    );
  }

  private guard<T>(operation: string, fn: () => T): T {
    if (!this.db.open) {
      throw new StoreError('STORE_CLOSED', `${operation}: the revision store ${this.path} is closed; open it again with Store.open`, { path: this.path });
    }
    try {
      return fn();
    } catch (err) {
      throw toStoreError(err, operation, this.path) ?? err;
    }
  }
}

function prepareStatements(db: BetterSqlite3.Database) {
  return {
    insertRevision: db.prepare<[string, string, number | null, number | null, string | null, string | null, number]>(
      'INSERT INTO revisions (created_at, source, actor_uid, actor_pid, actor_name, comment, resource_count) VALUES (?, ?, ?, ?, ?, ?, ?)',
    ),
    insertMember: db.prepare<[number, number, Buffer]>('INSERT INTO revision_objects (revision, ordinal, object_hash) VALUES (?, ?, ?)'),
    copyMembers: db.prepare<[number, number]>(
      'INSERT INTO revision_objects (revision, ordinal, object_hash) SELECT ?, ordinal, object_hash FROM revision_objects WHERE revision = ?',
    ),
    newest: db.prepare<[], RevisionRow>(`SELECT ${REVISION_COLUMNS} FROM revisions ORDER BY revision DESC LIMIT 1`),
    byNumber: db.prepare<[number], RevisionRow>(`SELECT ${REVISION_COLUMNS} FROM revisions WHERE revision = ?`),
    newestFirst: db.prepare<[number], RevisionRow>(`SELECT ${REVISION_COLUMNS} FROM revisions ORDER BY revision DESC LIMIT ?`),
  };
}

function toInfo(row: RevisionRow): RevisionInfo {
  const info: RevisionInfo = { revision: row.revision, createdAt: row.created_at, source: row.source, resourceCount: row.resource_count };
  const actor: Actor = {};
  if (row.actor_uid !== null) actor.uid = row.actor_uid;
  if (row.actor_pid !== null) actor.pid = row.actor_pid;
  if (row.actor_name !== null) actor.name = row.actor_name;
  if (Object.keys(actor).length > 0) info.actor = actor;
  if (row.comment !== null) info.comment = row.comment;
  return info;
}

function validateCommit(input: CommitInput): void {
  validateSource('commit', input.source);
  validateActor('commit', input.actor);
  if (!Array.isArray(input.resources)) {
    throw new StoreError('STORE_INVALID_INPUT', 'commit: resources must be an array of resources (an empty array deletes every resource)');
  }
  const seen = new Set<string>();
  input.resources.forEach((r: Resource, index) => {
    if (typeof r?.kind !== 'string' || typeof r.metadata?.name !== 'string' || r.metadata.name === '') {
      throw new StoreError('STORE_INVALID_INPUT', `commit: resources[${index}] has no kind or metadata.name; parse policy with parsePolicyFiles before committing it`);
    }
    const key = resourceKey(r);
    if (seen.has(key)) {
      throw new StoreError('STORE_DUPLICATE_RESOURCE', `commit: ${key} appears twice (resources[${index}]); keep one definition per kind and name`);
    }
    seen.add(key);
  });
  if (input.comment !== undefined && typeof input.comment !== 'string') {
    throw new StoreError('STORE_INVALID_INPUT', `commit: comment must be a string, got ${typeof input.comment}`);
  }
}

function validateSource(operation: string, source: unknown): void {
  if (typeof source !== 'string' || source.trim() === '') {
    throw new StoreError('STORE_INVALID_INPUT', `${operation}: source must say where the change came from ("cli apply", "rollback", a file name), got ${JSON.stringify(source)}`);
  }
}

function validateActor(operation: string, actor: Actor | undefined): void {
  if (actor === undefined) return;
  for (const field of ['uid', 'pid'] as const) {
    const value = actor[field];
    if (value !== undefined && !(Number.isInteger(value) && value >= 0)) {
      throw new StoreError('STORE_INVALID_INPUT', `${operation}: actor.${field} must be a non-negative integer, got ${JSON.stringify(value)}`);
    }
  }
  if (actor.name !== undefined && typeof actor.name !== 'string') {
    throw new StoreError('STORE_INVALID_INPUT', `${operation}: actor.name must be a string, got ${typeof actor.name}`);
  }
}
