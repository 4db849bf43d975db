// Ownership records for lab namespaces. A lab writes /run/fglab/<id>.owner holding its creator's pid
// and process start time; scripts/lab/cleanup.sh removes only the namespaces of labs whose owner is
// gone, so several labs (and test runs) can share the machine while crashed runs still get cleaned.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LabError } from './process';

export const OWNER_DIR = '/run/fglab';

/** The fields of /proc/<pid>/stat after the command name: field 3 (state) is index 0. */
function statFields(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // comm (field 2) may contain spaces and parentheses: fields after the last ")" start at field 3.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** Field 22 of /proc/<pid>/stat (start time in clock ticks), which tells a reused pid apart. */
export function processStartTime(pid: number): string | undefined {
  return statFields(pid)?.[22 - 3];
}

export function ownerFile(id: string): string {
  return join(OWNER_DIR, `${id}.owner`);
}

/** True when the record names a process that still runs (not a zombie) with the recorded start time. */
export function ownerAlive(id: string): boolean {
  let record: string;
  try {
    record = readFileSync(ownerFile(id), 'utf8');
  } catch {
    return false;
  }
  const [pid, start] = record.trim().split(' ');
  const fields = statFields(Number(pid));
  return fields !== undefined && fields[0] !== 'Z' && fields[22 - 3] === start;
}

export function writeOwner(id: string): void {
  mkdirSync(OWNER_DIR, { recursive: true });
  writeFileSync(ownerFile(id), `${process.pid} ${processStartTime(process.pid)}\n`);
}

/** Records this process as the owner of lab id; refuses (LAB_ID_IN_USE) when a live lab holds it. */
export function claimOwner(id: string): void {
  if (ownerAlive(id)) {
    throw new LabError('LAB_ID_IN_USE', `lab id ${id} belongs to a running lab (${ownerFile(id)})`);
  }
  writeOwner(id);
}

export function removeOwner(id: string): void {
  rmSync(ownerFile(id), { force: true });
}
