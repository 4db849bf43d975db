// Deterministic names for chains and sets. Set names derive from what the set means (its content,
// or the selector whose members it holds), so compiling the same input twice gives the same names
// and the differ sees no change.
import { createHash } from 'node:crypto';

/** NFT_NAME_MAXLEN is 256 including the NUL (include/uapi/linux/netfilter/nf_tables.h). */
const MAX_NAME = 255;

/** The first 8 hex digits of the SHA-256 of the text. */
export function hash8(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 8);
}

/** A kernel-legal object name: the readable name when it fits, else a cut of it plus a hash of all of it. */
export function objectName(readable: string): string {
  if (Buffer.byteLength(readable) <= MAX_NAME) return readable;
  const hash = hash8(readable);
  return `${Buffer.from(readable).subarray(0, MAX_NAME - 10).toString('utf8').replace(/\uFFFD$/, '')}~${hash}`;
}

/** Cuts a comment or log prefix to at most `max` bytes of UTF-8 without splitting a character. */
export function cutBytes(text: string, max: number): string {
  if (Buffer.byteLength(text) <= max) return text;
  let out = text;
  while (Buffer.byteLength(out) > max) out = out.slice(0, -1);
  return out;
}

/** Code-unit string order: locale-independent, so the output is the same on every machine. */
export function byString(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
