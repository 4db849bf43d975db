// What the reconciler believes the kernel holds after its own commit, so that the next change is
// diffed without reading the table back (a big set costs O(n^2) to dump, performance.md).
import { Rule, Ruleset } from '../nftables/model';
import { Plan } from './plan';

/**
 * The desired ruleset as committed: its rules carry the handles the plan knew in advance (kept and
 * replaced rules). Inserted rules have none until the table is read again (hasAllHandles).
 */
export function committedState(desired: Ruleset, plan: Plan): Ruleset {
  const rules = new Map<string, Rule[]>();
  for (const [chain, list] of desired.rules) {
    rules.set(chain, list.map((r) => {
      const handle = plan.handles.get(r);
      return handle === undefined ? r : { ...r, handle };
    }));
  }
  return { ...desired, rules };
}

/** How many rules, sets and elements a ruleset holds (for logs and status). */
export function sizeOf(rs: Ruleset): { chains: number; rules: number; sets: number; elements: number } {
  let rules = 0;
  for (const list of rs.rules.values()) rules += list.length;
  let elements = 0;
  for (const s of rs.sets) elements += s.elements?.length ?? 0;
  return { chains: rs.chains.length, rules, sets: rs.sets.length, elements };
}
