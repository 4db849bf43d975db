// errno numbers to their names, taken from Node's own table so that it matches the platform.
import { constants } from 'node:os';

const names = new Map<number, string>();
for (const [name, value] of Object.entries(constants.errno)) {
  if (!names.has(value)) names.set(value, name);
}
// ERESTART is not in Node's table; nfnetlink answers a stale NFNL_BATCH_GENID with it.
names.set(85, 'ERESTART');

/** The symbolic name of a positive errno ("ENOENT"), or "E<number>" when unknown. */
export function errnoName(errno: number): string {
  return names.get(Math.abs(errno)) ?? `E${Math.abs(errno)}`;
}
