// Canonical JSON: the one text of a value that the store hashes and compares. Object keys are
// sorted (by UTF-16 code units, as Array#sort does), members whose value is undefined are left out
// and there is no whitespace, so two resources that mean the same have the same text whatever order
// their fields were written in. Arrays keep their order: in Calico resources order can matter
// (rules) and the user's order of nets is what `get` should give back.
import { createHash } from 'node:crypto';

export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    const text = JSON.stringify(value);
    // Only reachable inside arrays (objects skip undefined members): JSON writes null there.
    return text === undefined ? 'null' : text;
  }
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const record = value as Record<string, unknown>;
  const members: string[] = [];
  for (const key of Object.keys(record).sort()) {
    const member = record[key];
    if (member === undefined || typeof member === 'function') continue;
    members.push(`${JSON.stringify(key)}:${canonicalJson(member)}`);
  }
  return `{${members.join(',')}}`;
}

/** SHA-256 of the bytes (a string as UTF-8), as the 32-byte digest the store keys content by. */
export function sha256(data: string | Buffer): Buffer {
  return createHash('sha256').update(data).digest();
}
