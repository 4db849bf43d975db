// Errors of the revision store. Every error carries a stable `code` and a message that says what
// to do next, so the CLI can print it as is and scripts can branch on the code.

export type StoreErrorCode =
  | 'STORE_NO_REVISION'
  | 'STORE_CORRUPT'
  | 'STORE_OPEN_FAILED'
  | 'STORE_BUSY'
  | 'STORE_CLOSED'
  | 'STORE_INVALID_INPUT'
  | 'STORE_DUPLICATE_RESOURCE'
  | 'STORE_SCHEMA_TOO_NEW'
  | 'STORE_MIGRATIONS_INVALID'
  | 'STORE_MIGRATION_FAILED';

export class StoreError extends Error {
  override name = 'StoreError';
  readonly code: StoreErrorCode;
  /** The database file the error concerns (':memory:' for an in-memory store). */
  readonly path?: string;
  /** The revision the error concerns, when one does. */
  readonly revision?: number;

  constructor(code: StoreErrorCode, message: string, details: { path?: string; revision?: number; cause?: unknown } = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.code = code;
    if (details.path !== undefined) this.path = details.path;
    if (details.revision !== undefined) this.revision = details.revision;
  }
}

/** SQLite result codes (better-sqlite3's SqliteError.code) that mean the file is damaged. */
const CORRUPT_CODES = new Set(['SQLITE_CORRUPT', 'SQLITE_NOTADB', 'SQLITE_CORRUPT_INDEX', 'SQLITE_CORRUPT_SEQUENCE']);
const BUSY_CODES = new Set(['SQLITE_BUSY', 'SQLITE_BUSY_SNAPSHOT', 'SQLITE_BUSY_RECOVERY', 'SQLITE_LOCKED']);

/**
 * The StoreError, with advice, for a SQLite failure during `operation` that is a state of the
 * database (damaged, locked, cannot open); StoreErrors pass through. Undefined for anything else,
 * which callers rethrow unchanged: a bug is not a state of the database.
 */
export function toStoreError(err: unknown, operation: string, path: string): StoreError | undefined {
  if (err instanceof StoreError) return err;
  const code = (err as { code?: unknown } | null)?.code;
  const message = err instanceof Error ? err.message : String(err);
  if (typeof code === 'string' && CORRUPT_CODES.has(code)) {
    return new StoreError(
      'STORE_CORRUPT',
      `${operation}: the revision store ${path} is damaged (${code}: ${message}); ` +
        'stop the agent, move the file aside and restore it from a backup (or start empty and re-apply your policy)',
      { path, cause: err },
    );
  }
  if (typeof code === 'string' && BUSY_CODES.has(code)) {
    return new StoreError(
      'STORE_BUSY',
      `${operation}: the revision store ${path} is locked by another process (${code}); ` +
        'retry, or find the other writer (another agent on the same --state-dir?)',
      { path, cause: err },
    );
  }
  if (typeof code === 'string' && code.startsWith('SQLITE_CANTOPEN')) {
    return new StoreError(
      'STORE_OPEN_FAILED',
      `${operation}: cannot open the revision store ${path} (${code}: ${message}); ` +
        'check that its directory exists and is writable by this user',
      { path, cause: err },
    );
  }
  return undefined;
}
