-- flockguard revision store, schema version 1.
-- Content-addressed: a revision is an ordered list of resource hashes; a resource (objects) is
-- stored once whatever the number of revisions holding it; its large string lists (a network
-- set's nets) live in chunks shared between resources, reached through chunk indexes (a two-level
-- Merkle tree, see src/store/chunking.ts), so a revision changing one prefix of a million adds
-- one chunk, one index and a few rows, not a million rows. Hashes are SHA-256 digests (32-byte blobs).

-- One row per accepted push, rollback included. AUTOINCREMENT: numbers are never reused.
CREATE TABLE revisions (
  revision       INTEGER PRIMARY KEY AUTOINCREMENT,
  created_at     TEXT    NOT NULL,           -- ISO 8601, UTC
  source         TEXT    NOT NULL,           -- 'cli apply', 'rollback', 'netset add', file names...
  actor_uid      INTEGER,
  actor_pid      INTEGER,
  actor_name     TEXT,
  comment        TEXT,
  resource_count INTEGER NOT NULL
);

-- A resource by the hash of its content. `head` is its canonical JSON without its large lists.
CREATE TABLE objects (
  hash BLOB PRIMARY KEY,
  kind TEXT NOT NULL,
  name TEXT NOT NULL,
  head TEXT NOT NULL
);

-- A run of list items: `body` is a JSON array of strings, `hash` the SHA-256 of that text.
CREATE TABLE chunks (
  hash       BLOB PRIMARY KEY,
  item_count INTEGER NOT NULL,
  body       TEXT    NOT NULL
);

-- A run of chunks: `digests` is their hashes end to end (32 bytes each), `hash` its SHA-256.
CREATE TABLE chunk_indexes (
  hash        BLOB PRIMARY KEY,
  chunk_count INTEGER NOT NULL,
  item_count  INTEGER NOT NULL,
  digests     BLOB    NOT NULL
);

-- The chunk indexes of each large list of a resource, in order. list_path is a JSON array of keys
-- and indexes from the resource root, e.g. ["spec","nets"].
CREATE TABLE object_lists (
  object_hash BLOB    NOT NULL REFERENCES objects (hash),
  list_path   TEXT    NOT NULL,
  ordinal     INTEGER NOT NULL,
  index_hash  BLOB    NOT NULL REFERENCES chunk_indexes (hash),
  PRIMARY KEY (object_hash, list_path, ordinal)
) WITHOUT ROWID;

-- The resources of each revision, in the order they were committed.
CREATE TABLE revision_objects (
  revision    INTEGER NOT NULL REFERENCES revisions (revision),
  ordinal     INTEGER NOT NULL,
  object_hash BLOB    NOT NULL REFERENCES objects (hash),
  PRIMARY KEY (revision, ordinal)
) WITHOUT ROWID;
