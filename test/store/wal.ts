// Reads a SQLite WAL file left by a killed process, to tell whether the kill landed inside a write
// transaction: frames of the current WAL generation (same salts as the header) after the last
// commit frame belong to a transaction that never committed. Format: https://sqlite.org/fileformat2.html#walformat
import { existsSync, readFileSync } from 'node:fs';

const WAL_HEADER = 32;
const FRAME_HEADER = 24;

export function uncommittedWalFrames(walPath: string): number {
  if (!existsSync(walPath)) return 0;
  const wal = readFileSync(walPath);
  if (wal.length < WAL_HEADER) return 0;
  const pageSize = wal.readUInt32BE(8);
  const salt1 = wal.readUInt32BE(16);
  const salt2 = wal.readUInt32BE(20);
  let sinceCommit = 0;
  for (let at = WAL_HEADER; at + FRAME_HEADER <= wal.length; at += FRAME_HEADER + pageSize) {
    // A frame of an older generation (other salts) ends the current one: later bytes are stale.
    if (wal.readUInt32BE(at + 8) !== salt1 || wal.readUInt32BE(at + 12) !== salt2) break;
    const isCommit = wal.readUInt32BE(at + 4) !== 0;
    sinceCommit = isCommit ? 0 : sinceCommit + 1;
  }
  return sinceCommit;
}
