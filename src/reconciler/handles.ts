// Handles of the rules our own commit inserted, learnt from the NEWRULE events the kernel multicasts
// for that commit (nftables-netlink.md 6.1: event bodies equal dump replies, handle included), so the
// next change can address them without reading the table back (a big set costs O(n^2) to dump).
import { Rule, Ruleset } from '../nftables/model';
import { anonResolver, ruleKey } from './rule-key';

/**
 * Gives each rule of `view` that has no handle the handle of a NEWRULE event for the same chain and
 * content, in order (the kernel emits the events in batch order, which is the chains' order for
 * inserted rules). Events for rules whose handle is already known (replacements) are skipped.
 * Returns true when every rule of `view` then has a handle; the view is updated in place.
 */
export function learnHandles(view: Ruleset, added: readonly Rule[]): boolean {
  const viewRes = anonResolver(view.sets);
  const noAnon = anonResolver([]);
  const byChain = new Map<string, Rule[]>();
  for (const r of added) {
    if (r.handle === undefined) continue;
    const list = byChain.get(r.chain);
    if (list) list.push(r);
    else byChain.set(r.chain, [r]);
  }
  let complete = true;
  for (const [chain, rules] of view.rules) {
    if (rules.every((r) => r.handle !== undefined)) continue;
    const known = new Set<bigint | undefined>(rules.map((r) => r.handle));
    const events = (byChain.get(chain) ?? []).filter((e) => !known.has(e.handle));
    let next = 0;
    for (let i = 0; i < rules.length; i++) {
      const r = rules[i]!;
      if (r.handle !== undefined) continue;
      const key = ruleKey(r, viewRes);
      while (next < events.length && ruleKey(events[next]!, noAnon) !== key) next++;
      if (next >= events.length) {
        complete = false;
        break;
      }
      rules[i] = { ...r, handle: events[next++]!.handle };
    }
  }
  return complete;
}
