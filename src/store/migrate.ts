// Schema migrations: numbered SQL files in <package root>/migrations (0001_init.sql, 0002_...),
// each applied in its own transaction together with PRAGMA user_version, which records the schema
// version in the database header. A failed step rolls back whole, leaving the previous version.
import type BetterSqlite3 from 'better-sqlite3';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { StoreError, toStoreError } from './errors';

export interface Migration {
  version: number;
  file: string;
  sql: string;
}

const MIGRATION_FILE = /^(\d{4})_[a-z0-9_]+\.sql$/;

/**
 * The nearest directory above `from` holding package.json. The SQL files are not compiled, so from
 * dist/src/store (or src/store under ts-node) this finds the checkout or installed package root.
 */
export function packageRoot(from: string = __dirname): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) {
      throw new StoreError('STORE_MIGRATIONS_INVALID', `no package.json above ${from}: cannot find the migrations folder; reinstall flockguard`);
    }
  }
}

export function defaultMigrationsDir(): string {
  return join(packageRoot(), 'migrations');
}

/** The migrations in `dir`, in order; they must be numbered 1, 2, 3... without gaps. */
export function loadMigrations(dir: string): Migration[] {
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => n.endsWith('.sql')).sort();
  } catch (err) {
    throw new StoreError('STORE_MIGRATIONS_INVALID', `cannot read the migrations folder ${dir}: ${(err as Error).message}; reinstall flockguard`, { cause: err });
  }
  return names.map((file, index) => {
    const match = MIGRATION_FILE.exec(file);
    if (!match) {
      throw new StoreError('STORE_MIGRATIONS_INVALID', `migration ${join(dir, file)}: name must look like 0001_init.sql (four digits, _, lower-case words)`);
    }
    const version = Number(match[1]);
    if (version !== index + 1) {
      throw new StoreError('STORE_MIGRATIONS_INVALID', `migration ${join(dir, file)}: expected version ${index + 1} here; versions must run 1, 2, 3... without gaps or repeats`);
    }
    return { version, file, sql: readFileSync(join(dir, file), 'utf8') };
  });
}

export function schemaVersion(db: BetterSqlite3.Database): number {
  return db.pragma('user_version', { simple: true }) as number;
}

/**
 * Brings the database up to `target` (default: the last migration). Each step runs in an IMMEDIATE
 * transaction that re-reads the version first, so two processes opening one file at once do not
 * apply a step twice. Returns the versions before and after.
 */
export function migrate(
  db: BetterSqlite3.Database,
  migrations: readonly Migration[],
  options: { path: string; target?: number },
): { from: number; to: number } {
  const latest = migrations.length;
  const target = options.target ?? latest;
  const from = schemaVersion(db);
  if (from > latest) {
    throw new StoreError(
      'STORE_SCHEMA_TOO_NEW',
      `the revision store ${options.path} has schema version ${from}, newer than this flockguard knows (${latest}); ` +
        'upgrade flockguard, or point it at another state file',
      { path: options.path },
    );
  }
  for (const m of migrations) {
    if (m.version > target) break;
    const step = db.transaction(() => {
      if (schemaVersion(db) >= m.version) return;
      db.exec(m.sql);
      db.pragma(`user_version = ${m.version}`);
    });
    try {
      step.immediate();
    } catch (err) {
      const known = toStoreError(err, `migration ${m.file}`, options.path);
      if (known) throw known;
      throw new StoreError(
        'STORE_MIGRATION_FAILED',
        `migration ${m.file} failed on ${options.path}: ${(err as Error).message}; ` +
          `the store stays at schema version ${schemaVersion(db)}; report this with the file (a copy of it)`,
        { path: options.path, cause: err },
      );
    }
  }
  return { from, to: schemaVersion(db) };
}
