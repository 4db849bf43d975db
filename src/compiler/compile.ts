// The compiler: Calico pre-DNAT resources for one node to the desired `inet flockguard` table.
// Pure and deterministic: no I/O, no clock, everything sorted, names derived from content.
//
// Layout (Felix's mangle pre-DNAT chains, calico-prednat.md 3.1, in one inet table):
//   prerouting (filter, hook prerouting, priority -150, policy accept)
//     ct state established,related accept      conntrack first, before any policy
//     ICMPv6 neighbour discovery, DHCP accept  so that a deny-all policy cannot cut the host off
//     iifname "eth0" goto hep-<name>           one per interface HostEndpoint
//     ip daddr <expectedIPs> goto hep-<name>   HostEndpoints bound by address only (see below)
//     goto hep-<wildcard>                      the "*" HostEndpoint: every other interface
//   hep-<name>: ct state invalid drop; jump failsafe-in; jump hep-<name>/<tier> per tier
//   hep-<name>/<tier>: the rules of the tier's policies that select the endpoint, in order
//
// Verdicts: Allow is accept (ends this base chain only: kube-proxy's DNAT still runs), Deny drop,
// Pass returns from the tier chain (skipping the tier's remaining policies), Log logs and goes on.
// A packet nothing decides falls off the end and meets the chain policy, accept: pre-DNAT has no
// default drop, and Felix forces a pre-DNAT tier's defaultAction to Pass.
import { Chain, Expr, Rule, Ruleset } from '../nftables/model';
import { GlobalNetworkPolicy, GlobalNetworkSet, HostEndpoint, Resource, Tier } from '../policy/model';
import { exactPrefix, familyRanges, intervalElements, PrefixBag } from './addresses';
import { CompileError } from './errors';
import * as x from './exprs';
import { IpFamily } from './exprs';
import { byString, cutBytes, objectName } from './names';
import { CompileOptions, DEFAULT_COMPILE_OPTIONS, Failsafe, parseFailsafes } from './options';
import { isPreDnatIngress, PolicyOrder } from './order';
import { cidrAt, Resolver } from './resolver';
import { compileRule, RuleContext } from './rules';
import { MAX_COMMENT, SetRegistry } from './sets';

export const BASE_CHAIN = 'prerouting';
export const FAILSAFE_CHAIN = 'failsafe-in';

const IPPROTO = { tcp: 6, udp: 17, icmpv6: 58 } as const;
/** ICMPv6 router solicitation (133) to redirect (137), RFC 4861. */
const ND_TYPES: [number, number] = [133, 137];

interface Resources {
  heps: HostEndpoint[];
  gnss: GlobalNetworkSet[];
  policies: GlobalNetworkPolicy[];
  tiers: Tier[];
}

function split(resources: readonly Resource[]): Resources {
  const out: Resources = { heps: [], gnss: [], policies: [], tiers: [] };
  for (const r of resources) {
    if (r.kind === 'HostEndpoint') out.heps.push(r);
    else if (r.kind === 'GlobalNetworkSet') out.gnss.push(r);
    else if (r.kind === 'GlobalNetworkPolicy') out.policies.push(r);
    else if (r.kind === 'Tier') out.tiers.push(r);
  }
  return out;
}

function checkOptions(o: CompileOptions): void {
  if (!Number.isInteger(o.priority) || o.priority < -(2 ** 31) || o.priority >= 2 ** 31) {
    throw new CompileError('BAD_OPTION', 'options', 'priority', o.priority, 'not a 32-bit integer');
  }
  if (!o.tableName || Buffer.byteLength(o.tableName) > 255) {
    throw new CompileError('BAD_OPTION', 'options', 'tableName', o.tableName, 'empty or longer than 255 bytes');
  }
}

export function compile(resources: readonly Resource[], nodeName: string, options?: Partial<CompileOptions>): Ruleset {
  const opts: CompileOptions = { ...DEFAULT_COMPILE_OPTIONS, ...options };
  checkOptions(opts);
  const table = opts.tableName as string;
  const failsafes = parseFailsafes(opts.failsafeInbound);
  const res = split(resources);
  const resolver = new Resolver(res.heps, res.gnss);
  const ctx: RuleContext = { resolver, sets: new SetRegistry('inet', table), table };
  const order = new PolicyOrder(res.tiers, res.policies.filter(isPreDnatIngress), resolver);
  const b = new TableBuilder(table);

  b.chain({ family: 'inet', table, name: BASE_CHAIN, base: { type: 'filter', hook: 'prerouting', priority: opts.priority, policy: 'accept' } });
  b.rule(BASE_CHAIN, x.ctStateAny(x.CT_STATE.established | x.CT_STATE.related), 'accept', 'conntrack established,related');
  // ND keeps working under a deny-all policy. It is accepted before the invalid-state drop: conntrack
  // attaches no entry to ND messages (nf_conntrack_proto_icmpv6.c: untracked, or invalid for redirect).
  b.rule(BASE_CHAIN, [...x.nfproto(6), ...x.l4proto(IPPROTO.icmpv6), ...x.transportByteRange(0, ...ND_TYPES)], 'accept', 'icmpv6 neighbour discovery');
  b.rule(BASE_CHAIN, [...x.nfproto(4), ...x.l4proto(IPPROTO.udp), ...x.portMatch('dport', 67, 68, 'eq')], 'accept', 'dhcp');
  b.rule(BASE_CHAIN, [...x.nfproto(6), ...x.l4proto(IPPROTO.udp), ...x.portMatch('dport', 546, 547, 'eq')], 'accept', 'dhcpv6');

  if (failsafes.length) {
    b.chain({ family: 'inet', table, name: FAILSAFE_CHAIN });
    for (const f of failsafes) b.rule(FAILSAFE_CHAIN, failsafeMatch(f), 'accept', `failsafe ${f.text}`);
  }

  for (const d of dispatchOrder(res.heps.filter((h) => h.spec.node === nodeName))) {
    const chain = objectName(`hep-${d.hep.metadata.name}`);
    for (const m of dispatchMatches(ctx, d)) {
      b.rule(BASE_CHAIN, m.exprs, 'goto', cutBytes(`dispatch hep=${d.hep.metadata.name} ${m.what}`, MAX_COMMENT), chain);
    }
    b.chain({ family: 'inet', table, name: chain });
    if (opts.dropInvalid) b.rule(chain, x.ctStateAny(x.CT_STATE.invalid), 'drop', 'conntrack invalid');
    // Failsafes come before any policy, so they override even a pre-DNAT Deny (Felix jumps to
    // cali-failsafe-in from each per-endpoint chain).
    if (failsafes.length) b.rule(chain, [], 'jump', 'failsafe', FAILSAFE_CHAIN);
    for (const { tier, policies } of order.forEndpoint(d.hep)) {
      const tierChain = objectName(`${chain}/${tier}`);
      b.chain({ family: 'inet', table, name: tierChain });
      b.rule(chain, [], 'jump', cutBytes(`tier=${tier}`, MAX_COMMENT), tierChain);
      for (const p of policies) {
        (p.spec.ingress ?? []).forEach((r, i) => b.rules(tierChain, compileRule(ctx, p, i, r, tierChain)));
      }
    }
  }
  return b.build(ctx.sets);
}

function failsafeMatch(f: Failsafe): Expr[] {
  const proto = IPPROTO[f.protocol];
  if (!f.net) return [...x.l4proto(proto), ...x.portMatch('dport', f.port, f.port, 'eq')];
  const source = f.net.prefix === 0 ? [] : x.addrPrefix(f.net.family, 'saddr', f.net.addr, f.net.prefix, 'eq');
  return [...x.nfproto(f.net.family), ...x.l4proto(proto), ...source, ...x.portMatch('dport', f.port, f.port, 'eq')];
}

interface Dispatch {
  hep: HostEndpoint;
  kind: 'interface' | 'address' | 'wildcard';
}

/**
 * The endpoints this node dispatches to, in evaluation order: interface endpoints (by interface
 * name), then address-bound ones, then the "*" endpoint as the fallback. When two endpoints claim
 * the same interface (or two are "*"), the first by name wins, so the choice is deterministic.
 */
function dispatchOrder(local: HostEndpoint[]): Dispatch[] {
  const sorted = [...local].sort((a, b) => byString(a.metadata.name, b.metadata.name));
  const byInterface = new Map<string, HostEndpoint>();
  const byAddress: HostEndpoint[] = [];
  let wildcard: HostEndpoint | undefined;
  for (const hep of sorted) {
    const ifname = hep.spec.interfaceName ?? '';
    if (ifname === '*') wildcard ??= hep;
    else if (ifname !== '') {
      if (!byInterface.has(ifname)) byInterface.set(ifname, hep);
    } else if (hep.spec.expectedIPs?.length) byAddress.push(hep);
  }
  return [
    ...[...byInterface.entries()].sort(([a], [b]) => byString(a, b)).map(([, hep]) => ({ hep, kind: 'interface' as const })),
    ...byAddress.map((hep) => ({ hep, kind: 'address' as const })),
    ...(wildcard ? [{ hep: wildcard, kind: 'wildcard' as const }] : []),
  ];
}

/**
 * Matches that send a packet to an endpoint's chain. An endpoint with an empty interfaceName binds,
 * in Calico, to whichever interface holds one of its expectedIPs. The compiler is pure and cannot
 * see the host's interfaces, so such an endpoint applies to packets addressed to its expectedIPs
 * (ip daddr / ip6 daddr) arriving on any interface that has no endpoint of its own. For traffic to
 * the host itself this is the same set of packets; it differs only for packets forwarded through
 * that interface to other destinations, which this form leaves to the "*" endpoint, if any.
 */
function dispatchMatches(ctx: RuleContext, d: Dispatch): Array<{ exprs: Expr[]; what: string }> {
  const name = d.hep.metadata.name;
  if (d.kind === 'interface') {
    const ifname = d.hep.spec.interfaceName as string;
    // IFNAMSIZ is 16 including the NUL: a longer name could never match, and would be cut silently.
    if (Buffer.byteLength(ifname) > 15) {
      throw new CompileError('BAD_INTERFACE', `HostEndpoint/${name}`, 'spec.interfaceName', ifname, 'longer than 15 bytes (IFNAMSIZ)');
    }
    return [{ exprs: x.iifname(ifname), what: `iifname=${ifname}` }];
  }
  if (d.kind === 'wildcard') return [{ exprs: [], what: 'iifname=*' }];
  const bag = new PrefixBag();
  (d.hep.spec.expectedIPs ?? []).forEach((ip, i) => bag.add(cidrAt(ip, { object: `HostEndpoint/${name}`, field: `spec.expectedIPs[${i}]` })));
  const merged = bag.merge();
  const out: Array<{ exprs: Expr[]; what: string }> = [];
  for (const family of [4, 6] as IpFamily[]) {
    const ranges = familyRanges(merged, family);
    if (ranges.length === 0) continue;
    const prefix = ranges.length === 1 ? exactPrefix(ranges[0][0], ranges[0][1]) : undefined;
    const match =
      prefix !== undefined
        ? x.addrPrefix(family, 'daddr', ranges[0][0], prefix, 'eq')
        : x.addrLookup(family, 'daddr', ctx.sets.addresses('hep', family, name, `expectedIPs of ${name}`, () => intervalElements(ranges)), false);
    out.push({ exprs: [...x.nfproto(family), ...match], what: `ip${family === 6 ? '6' : ''} daddr expectedIPs` });
  }
  return out;
}

class TableBuilder {
  private readonly chains: Chain[] = [];
  private readonly rulesByChain = new Map<string, Rule[]>();

  constructor(private readonly table: string) {}

  chain(c: Chain): void {
    this.chains.push(c);
    this.rulesByChain.set(c.name, []);
  }

  /** A rule with a counter, a verdict and a comment: every rule explains itself in `nft list`. */
  rule(chain: string, match: Expr[], verdict: 'accept' | 'drop' | 'jump' | 'goto', comment: string, target?: string): void {
    this.rules(chain, [{ family: 'inet', table: this.table, chain, exprs: [...match, x.counter(), x.verdict(verdict, target)], comment }]);
  }

  rules(chain: string, rules: Rule[]): void {
    this.rulesByChain.get(chain)!.push(...rules);
  }

  build(sets: SetRegistry): Ruleset {
    const [base, ...rest] = this.chains;
    const chains = [base, ...rest.sort((a, b) => byString(a.name, b.name))];
    const rules = new Map(chains.map((c) => [c.name, this.rulesByChain.get(c.name)!]));
    return { table: { family: 'inet', name: this.table }, chains, rules, sets: sets.list() };
  }
}
