// `flockguard counters`: the kernel's per-rule counters of our table, mapped back to policy and rule
// through the rule comments. One Calico rule can compile to several kernel rules (address families,
// ICMP alternatives, several CIDRs): their counters are summed per chain and comment, so a row is
// one policy rule on one host endpoint's tier chain.
import { CountersResult, RuleCounter } from '../api/service';
import { NftClient } from '../kernel';
import { Family, Ruleset } from '../nftables/model';
import { ruleRole } from './comments';

export interface CounterOptions {
  family?: Family;
  /** Only the rules of this policy. */
  policy?: string;
}

/** Reads our table from the kernel and returns its counters; an absent table gives no rows. */
export async function readCounters(client: NftClient, table = 'flockguard', options: CounterOptions = {}): Promise<CountersResult> {
  const { ruleset } = await client.dumpTable(options.family ?? 'inet', table);
  return { counters: countersOf(ruleset, options.policy), time: new Date().toISOString() };
}

/** Counter rows of a dumped table, in chain order (base chain first, as the compiler orders chains); none for an absent table. */
export function countersOf(ruleset: Ruleset | undefined, policy?: string): RuleCounter[] {
  const rows: RuleCounter[] = [];
  if (!ruleset) return rows;
  for (const chain of ruleset.chains) {
    const byComment = new Map<string, RuleCounter>();
    for (const rule of ruleset.rules.get(chain.name) ?? []) {
      const counter = rule.exprs.find((e) => e.type === 'counter');
      if (!counter || counter.type !== 'counter') continue;
      const comment = rule.comment ?? '';
      const role = ruleRole(rule.comment);
      if (role.kind === 'trace') continue;
      if (policy !== undefined && (role.kind !== 'policy' || role.policy !== policy)) continue;
      let row = byComment.get(comment);
      if (!row) {
        row = { comment, chain: chain.name, packets: 0, bytes: 0 };
        if (role.kind === 'policy') Object.assign(row, { policy: role.policy, ruleIndex: role.ruleIndex, action: role.action });
        byComment.set(comment, row);
        rows.push(row);
      }
      row.packets += Number(counter.packets);
      row.bytes += Number(counter.bytes);
    }
  }
  return rows;
}

/** Rows as a table for the CLI (`--watch` redraws it). */
export function formatCounters(rows: readonly RuleCounter[]): string[] {
  const name = (r: RuleCounter): string => (r.policy !== undefined ? `${r.policy} rule ${r.ruleIndex} (${r.action})` : r.comment || '(no comment)');
  const width = Math.max(4, ...rows.map((r) => name(r).length));
  const chainWidth = Math.max(5, ...rows.map((r) => r.chain.length));
  return [
    `${'RULE'.padEnd(width)}  ${'CHAIN'.padEnd(chainWidth)}  ${'PACKETS'.padStart(10)}  ${'BYTES'.padStart(12)}`,
    ...rows.map((r) => `${name(r).padEnd(width)}  ${r.chain.padEnd(chainWidth)}  ${String(r.packets).padStart(10)}  ${String(r.bytes).padStart(12)}`),
  ];
}
