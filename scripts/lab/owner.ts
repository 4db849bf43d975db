// Ownership records for lab namespaces. A lab writes /run/fglab/<id>.owner holding its creator's pid
// and process start time; scripts/lab/cleanup.sh removes only the namespaces of labs whose owner is
// gone, so several labs (and test runs) can share the machine while crashed runs still get cleaned.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const OWNER_DIR = '/run/fglab';

/** Field 22 of /proc/<pid>/stat (start time in clock ticks), which tells a reused pid apart. */
export function processStartTime(pid: number): string {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // comm (field 2) may contain spaces and parentheses: fields after the last ")" start at field 3.
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[22 - 3];
}

export function ownerFile(id: string): string {
  return join(OWNER_DIR, `${id}.owner`);
}

export function writeOwner(id: string): void {
  mkdirSync(OWNER_DIR, { recursive: true });
  writeFileSync(ownerFile(id), `${process.pid} ${processStartTime(process.pid)}\n`);
}

export function removeOwner(id: string): void {
  rmSync(ownerFile(id), { force: true });
}
