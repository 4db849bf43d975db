// Handmade rulesets for the differ's tests: a table `inet flockguard` with a prerouting base chain.
import { Chain, ElementFlags, Expr, NftSet, Rule, Ruleset, SetElement, SetFlags } from '../../src/nftables/model';

export const T = { family: 'inet' as const, name: 'flockguard' };

export function baseChain(name = 'prerouting', priority = -150, policy: 'accept' | 'drop' = 'accept'): Chain {
  return { family: 'inet', table: T.name, name, base: { type: 'filter', hook: 'prerouting', priority, policy } };
}

export function regularChain(name: string): Chain {
  return { family: 'inet', table: T.name, name };
}

/** `tcp dport <port> counter <verdict>` as nft compiles it (meta l4proto, payload, cmp). */
export function portRule(chain: string, port: number, verdict: 'accept' | 'drop' = 'accept', comment?: string): Rule {
  const p = Buffer.alloc(2);
  p.writeUInt16BE(port);
  return {
    family: 'inet', table: T.name, chain, comment,
    exprs: [
      { type: 'meta', key: 'l4proto', dreg: 1 },
      { type: 'cmp', sreg: 1, op: 'eq', data: Buffer.from([6]) },
      { type: 'payload', base: 'transport', offset: 2, len: 2, dreg: 1 },
      { type: 'cmp', sreg: 1, op: 'eq', data: p },
      { type: 'counter', packets: 0n, bytes: 0n },
      { type: 'immediate', dreg: 0, verdict: { kind: verdict } },
    ],
  };
}

/** `ip saddr @set counter drop`. */
export function lookupRule(chain: string, set: string, setId?: number): Rule {
  return {
    family: 'inet', table: T.name, chain,
    exprs: [
      { type: 'meta', key: 'nfproto', dreg: 1 },
      { type: 'cmp', sreg: 1, op: 'eq', data: Buffer.from([2]) },
      { type: 'payload', base: 'network', offset: 12, len: 4, dreg: 1 },
      { type: 'lookup', set, sreg: 1, setId },
      { type: 'counter', packets: 0n, bytes: 0n },
      { type: 'immediate', dreg: 0, verdict: { kind: 'drop' } },
    ],
  };
}

export function jumpRule(chain: string, target: string): Rule {
  return { family: 'inet', table: T.name, chain, exprs: [{ type: 'immediate', dreg: 0, verdict: { kind: 'jump', chain: target } }] };
}

export function ip(a: string): Buffer {
  return Buffer.from(a.split('.').map(Number));
}

function plusOne(b: Buffer): Buffer | undefined {
  const out = Buffer.from(b);
  for (let i = out.length - 1; i >= 0; i--) {
    if (out[i]! < 255) {
      out[i]!++;
      return out;
    }
    out[i] = 0;
  }
  return undefined;
}

/** nft's interval encoding of inclusive IPv4 ranges (nft intervals.c): start, end+1 flagged END, or an open start at the top. */
export function intervalElements(ranges: Array<[string, string]>, fresh = true): SetElement[] {
  const out: SetElement[] = fresh && ranges[0]?.[0] !== '0.0.0.0' ? [{ key: Buffer.alloc(4), flags: ElementFlags.intervalEnd }] : [];
  for (const [lo, hi] of ranges) {
    const end = plusOne(ip(hi));
    if (end) out.push({ key: ip(lo) }, { key: end, flags: ElementFlags.intervalEnd });
    else out.push({ key: ip(lo), open: true });
  }
  return out;
}

export function ipv4Set(name: string, elements: SetElement[], interval: boolean): NftSet {
  return {
    family: 'inet', table: T.name, name, keyType: 7, keyLen: 4,
    flags: interval ? SetFlags.interval : 0, keyByteOrder: 'big', elements,
  };
}

export function ruleset(chains: Chain[], rules: Rule[], sets: NftSet[] = []): Ruleset {
  const byChain = new Map<string, Rule[]>();
  for (const c of chains) byChain.set(c.name, []);
  for (const r of rules) byChain.get(r.chain)!.push(r);
  return { table: { family: 'inet', name: T.name }, chains, rules: byChain, sets };
}

/**
 * What a dump of `rs` would return: handles on every rule (numbered from `firstHandle`), counters
 * that have counted, copies of everything, and set elements in reverse order (dumps do not sort).
 */
export function asLive(rs: Ruleset, firstHandle = 10n): Ruleset {
  let h = firstHandle;
  const rules = new Map<string, Rule[]>();
  for (const [chain, list] of rs.rules) {
    rules.set(chain, list.map((r) => ({
      ...r,
      handle: h++,
      exprs: r.exprs.map((e): Expr => (e.type === 'counter' ? { type: 'counter', packets: 42n, bytes: 4200n } : { ...e })),
    })));
  }
  let setNo = 0;
  const sets = rs.sets.map((s) => ({
    ...s,
    name: (s.flags & SetFlags.anonymous) !== 0 ? `__set${setNo++}` : s.name,
    id: undefined,
    handle: BigInt(100 + setNo),
    elements: s.elements ? [...s.elements].reverse() : undefined,
  }));
  return { table: { ...rs.table, handle: 1n }, chains: rs.chains.map((c, i) => ({ ...c, handle: BigInt(i + 1) })), rules, sets };
}
