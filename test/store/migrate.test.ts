import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Revision, Store } from '../../src/store';
import { defaultMigrationsDir, loadMigrations, migrate, packageRoot, schemaVersion } from '../../src/store/migrate';
import { assertStoreError, tempDir } from './helpers';

/** Fixtures live next to the TypeScript sources; the compiled test runs from dist/test/store. */
const FIXTURES = join(packageRoot(__dirname), 'test', 'store', 'fixtures');

describe('store migrations', () => {
  let tmp: ReturnType<typeof tempDir>;
  beforeEach(() => {
    tmp = tempDir();
  });
  afterEach(() => tmp.cleanup());

  function writeMigrations(files: Record<string, string>): string {
    const dir = join(tmp.dir, 'migrations');
    mkdirSync(dir, { recursive: true });
    for (const [name, sql] of Object.entries(files)) writeFileSync(join(dir, name), sql);
    return dir;
  }

  describe('the real migrations', () => {
    const real = loadMigrations(defaultMigrationsDir());

    it('are found from the compiled code, relative to the package root', () => {
      assert.ok(real.length >= 1);
      assert.equal(real[0]?.file, '0001_init.sql');
      const store = Store.open(':memory:');
      assert.equal(store.schemaVersion(), real.length);
      store.close();
    });

    // Every schema version a user's database can be at must upgrade with its data intact. A database
    // is built at version v with the migrations of the time, filled from fixtures/schema-v<v>.sql
    // (rows as the Store of that version wrote them), then opened by today's Store, which upgrades it.
    for (let version = 0; version <= real.length; version++) {
      it(`upgrade a database at schema version ${version} to the newest, data intact`, () => {
        const path = join(tmp.dir, `v${version}.db`);
        const db = new Database(path);
        migrate(db, real, { path, target: version });
        assert.equal(schemaVersion(db), version);
        let expected: Revision[] = [];
        if (version > 0) {
          const fixture = join(FIXTURES, `schema-v${version}.sql`);
          assert.ok(existsSync(fixture), `every schema version needs ${fixture}: data written at that version`);
          db.exec(readFileSync(fixture, 'utf8'));
          expected = JSON.parse(readFileSync(join(FIXTURES, `schema-v${version}.expected.json`), 'utf8')) as Revision[];
        }
        db.close();

        const store = Store.open(path);
        assert.equal(store.schemaVersion(), real.length);
        assert.deepEqual(store.history().map((r) => r.revision), expected.map((r) => r.revision).reverse());
        for (const revision of expected) assert.deepEqual(store.get(revision.revision), revision);
        const next = store.commit({ resources: expected.at(-1)?.resources ?? [], source: 'after upgrade' });
        assert.equal(next.revision, (expected.at(-1)?.revision ?? 0) + 1, 'revision numbers continue after the upgrade');
        store.close();
      });
    }
  });

  describe('migrate()', () => {
    it('applies numbered steps in order, each recorded in user_version, keeping earlier data', () => {
      const dir = writeMigrations({
        '0001_init.sql': 'CREATE TABLE t (a INTEGER NOT NULL);',
        '0002_add_b.sql': "ALTER TABLE t ADD COLUMN b TEXT NOT NULL DEFAULT 'none';\nCREATE INDEX t_b ON t (b);",
      });
      const steps = loadMigrations(dir);
      const db = new Database(':memory:');
      assert.deepEqual(migrate(db, steps, { path: ':memory:', target: 1 }), { from: 0, to: 1 });
      db.prepare('INSERT INTO t (a) VALUES (?)').run(7);
      assert.deepEqual(migrate(db, steps, { path: ':memory:' }), { from: 1, to: 2 });
      assert.deepEqual(db.prepare('SELECT a, b FROM t').all(), [{ a: 7, b: 'none' }]);
      assert.deepEqual(migrate(db, steps, { path: ':memory:' }), { from: 2, to: 2 }, 'a second run does nothing');
      db.close();
    });

    it('rolls a failing step back whole and stays at the previous version', () => {
      const dir = writeMigrations({
        '0001_init.sql': 'CREATE TABLE t (a INTEGER);',
        '0002_broken.sql': 'CREATE TABLE half (x INTEGER);\nINSERT INTO no_such_table VALUES (1);',
      });
      const db = new Database(join(tmp.dir, 'broken.db'));
      assertStoreError(() => migrate(db, loadMigrations(dir), { path: 'broken.db' }), 'STORE_MIGRATION_FAILED', /0002_broken\.sql.*no_such_table.*schema version 1/);
      assert.equal(schemaVersion(db), 1);
      assert.deepEqual(db.prepare("SELECT name FROM sqlite_master WHERE name = 'half'").all(), []);
      db.close();
    });

    it('refuses misnamed files and gaps in the numbering', () => {
      assertStoreError(() => loadMigrations(writeMigrations({ '0001_init.sql': '', '3_oops.sql': '' })), 'STORE_MIGRATIONS_INVALID', /3_oops\.sql: name must look like/);
      tmp.cleanup();
      tmp = tempDir();
      assertStoreError(() => loadMigrations(writeMigrations({ '0001_init.sql': '', '0003_skip.sql': '' })), 'STORE_MIGRATIONS_INVALID', /0003_skip\.sql: expected version 2/);
      assertStoreError(() => loadMigrations(join(tmp.dir, 'nowhere')), 'STORE_MIGRATIONS_INVALID', /cannot read the migrations folder/);
    });
  });

  describe('Store.open() and schema versions', () => {
    it('refuses a database from a newer flockguard and leaves it untouched', () => {
      const path = join(tmp.dir, 'future.db');
      const db = new Database(path);
      db.exec('CREATE TABLE future (x INTEGER); PRAGMA user_version = 99;');
      db.close();
      assertStoreError(() => Store.open(path), 'STORE_SCHEMA_TOO_NEW', /version 99.*upgrade flockguard/);
      const after = new Database(path, { readonly: true });
      assert.equal(schemaVersion(after), 99);
      after.close();
    });
  });

  describe('packageRoot()', () => {
    it('finds the root above a compiled file, where migrations/ sits next to package.json', () => {
      const root = join(tmp.dir, 'pkg');
      mkdirSync(join(root, 'dist', 'src', 'store'), { recursive: true });
      writeFileSync(join(root, 'package.json'), '{}');
      assert.equal(packageRoot(join(root, 'dist', 'src', 'store')), root);
      assert.equal(packageRoot(root), root);
    });
  });
});
