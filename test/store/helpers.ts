// Builders and temporary files shared by the store tests.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { GlobalNetworkPolicy, GlobalNetworkSet } from '../../src/policy/model';
import { StoreError } from '../../src/store';

export function networkSet(name: string, nets: string[], labels: Record<string, string> = { role: 'blocklist' }): GlobalNetworkSet {
  return { apiVersion: 'projectcalico.org/v3', kind: 'GlobalNetworkSet', metadata: { name, labels }, spec: { nets } };
}

export function policy(name: string, port = 443, order = 10): GlobalNetworkPolicy {
  return {
    apiVersion: 'projectcalico.org/v3',
    kind: 'GlobalNetworkPolicy',
    metadata: { name },
    spec: {
      order,
      selector: 'role == "node"',
      preDNAT: true,
      applyOnForward: true,
      types: ['Ingress'],
      ingress: [{ action: 'Allow', protocol: 'TCP', destination: { ports: [port] } }],
    },
  };
}

/** `count` distinct IPv4 prefixes, /24s from 10.0.0.0 on, shifted by `offset` /24s. */
export function prefixes(count: number, offset = 0): string[] {
  return Array.from({ length: count }, (_, i) => {
    const n = i + offset;
    return `${10 + ((n >>> 16) & 0x7f)}.${(n >>> 8) & 255}.${n & 255}.0/24`;
  });
}

/** A fresh directory removed by the returned cleanup function. */
export function tempDir(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'flockguard-store-'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Asserts that `fn` throws a StoreError with `code` and, when given, a message matching `message`. */
export function assertStoreError(fn: () => unknown, code: string, message?: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof StoreError, `expected a StoreError, got ${String(err)}`);
    assert.equal(err.code, code);
    if (message) assert.match(err.message, message);
    return true;
  });
}

/** The database file's size once the WAL has been folded into it. */
export function databaseFileBytes(path: string): number {
  const db = new Database(path);
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
  return statSync(path).size;
}
