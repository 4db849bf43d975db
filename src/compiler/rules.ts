// One Calico ingress rule to nft rules. A Calico rule is an AND of its criteria; it becomes one nft
// rule per IP family it can match (only when a criterion is family-specific: ipVersion, ICMP, nets,
// selectors, named ports), and one per alternative where Calico ORs inside a field: numeric ports
// and named ports of the same `ports` list (Felix renders those as separate match blocks too).
// Lists of nets or ports become set lookups, never one rule per value.
import { Expr, Rule } from '../nftables/model';
import { EntityRule, GlobalNetworkPolicy, IcmpMatch, Port, Rule as CalicoRule } from '../policy/model';
import {
  AddressRanges, exactPrefix, familyElements, familyRanges, hostCount, hostElements, intervalElements, PrefixBag, rangeCount,
  rangesFingerprint, SplitAddresses,
} from './addresses';
import { CompileError } from './errors';
import * as x from './exprs';
import { AddrField, IpFamily, PortField } from './exprs';
import { cutBytes } from './names';
import { Selector } from '../policy/selector';
import { cidrAt, Located, Resolver } from './resolver';
import { MAX_COMMENT, SetRegistry } from './sets';

const PROTOCOLS: Record<string, number> = { tcp: 6, udp: 17, icmp: 1, icmpv6: 58, sctp: 132, udplite: 136 };
const PORT_PROTOCOLS = new Set([6, 17, 132]);
/** NF_LOG_PREFIXLEN is 128 including the NUL. */
const MAX_LOG_PREFIX = 127;

export interface RuleContext {
  resolver: Resolver;
  sets: SetRegistry;
  table: string;
}

type PortRange = [lo: number, hi: number];

interface SelectorMembers {
  text: string;
  members: SplitAddresses;
}

/** A resolved EntityRule (source or destination). */
interface Entity {
  addr: AddrField;
  port: PortField;
  nets?: AddressRanges;
  notNets?: AddressRanges;
  selector?: SelectorMembers;
  notSelector?: SelectorMembers;
  ports: PortRange[];
  namedPorts: string[];
  notPorts: PortRange[];
  notNamedPorts: string[];
  /** Whose named ports count: the entity's selector, or all() without one (Calico's named-port IP sets). */
  namedPortSelector: Selector;
}

/** The comment every rule of a policy carries (CONTRACTS.md): the explainer maps rules back by it. */
export function policyRuleComment(policy: string, index: number, action: string): string {
  const tail = ` rule=${index} action=${action}`;
  return `policy=${cutBytes(policy, MAX_COMMENT - tail.length - 'policy='.length)}${tail}`;
}

export function compileRule(ctx: RuleContext, policy: GlobalNetworkPolicy, index: number, rule: CalicoRule, chain: string): Rule[] {
  const object = `GlobalNetworkPolicy/${policy.metadata.name}`;
  const field = `spec.ingress[${index}]`;
  const at = (f: string): Located => ({ object, field: `${field}.${f}` });
  const proto = rule.protocol === undefined ? undefined : protocolNumber(rule.protocol, at('protocol'));
  const notProto = rule.notProtocol === undefined ? undefined : protocolNumber(rule.notProtocol, at('notProtocol'));
  const source = resolveEntity(ctx, rule.source ?? {}, 'saddr', 'sport', at('source'), proto);
  const dest = resolveEntity(ctx, rule.destination ?? {}, 'daddr', 'dport', at('destination'), proto);
  checkIcmp(rule.icmp, proto, at('icmp'));
  checkIcmp(rule.notICMP, proto, at('notICMP'));

  const tail = [x.counter(), ...actionExprs(rule.action, policy.metadata.name, index)];
  const comment = policyRuleComment(policy.metadata.name, index, rule.action);
  const head = (family?: IpFamily): Expr[] => [
    ...(family ? x.nfproto(family) : []),
    ...(proto !== undefined ? x.l4proto(proto) : []),
    ...(notProto !== undefined ? x.l4proto(notProto, 'neq') : []),
  ];
  const icmp = icmpAlternatives(rule.icmp, rule.notICMP);
  const out: Rule[] = [];
  const emit = (exprs: Expr[]): void => {
    for (const alt of icmp) out.push({ family: 'inet', table: ctx.table, chain, exprs: [...exprs, ...alt, ...tail], comment });
  };

  if (!isFamilySpecific(rule, proto, source, dest)) {
    product([[head()], portAlternatives(ctx, source, undefined, proto), portAlternatives(ctx, dest, undefined, proto)]).forEach(emit);
    return out;
  }
  for (const family of candidateFamilies(rule, proto)) {
    const alternatives = product([
      [head(family)],
      addressAlternatives(ctx, source, family),
      addressAlternatives(ctx, dest, family),
      portAlternatives(ctx, source, family, proto),
      portAlternatives(ctx, dest, family, proto),
    ]);
    alternatives.forEach(emit);
  }
  return out;
}

function actionExprs(action: CalicoRule['action'], policy: string, index: number): Expr[] {
  switch (action) {
    case 'Allow':
      return [x.verdict('accept')];
    case 'Deny':
      return [x.verdict('drop')];
    case 'Pass':
      // The tier chain was jumped to: returning skips the rest of this tier's policies.
      return [x.verdict('return')];
    case 'Log':
      // No verdict: the packet goes on to the next rule, as Calico's Log does.
      return [x.log(cutBytes(`flockguard policy=${policy} rule=${index}: `, MAX_LOG_PREFIX))];
  }
}

/**
 * icmp ANDs type and code; notICMP negates that pair: not (type T and code C) is "type != T", or
 * "type T and code != C". Two disjoint rules keep that exact, and each one reads right in `nft list`
 * (a single 2-byte `!=` compare would be listed as two separate `!=` matches, which means less).
 */
function icmpAlternatives(icmp: IcmpMatch | undefined, notIcmp: IcmpMatch | undefined): Expr[][] {
  const positive = icmp?.type !== undefined ? x.icmpMatch(icmp.type, icmp.code) : [];
  if (notIcmp?.type === undefined) return [positive];
  const alts = [[...positive, ...x.icmpField('type', notIcmp.type, 'neq')]];
  if (notIcmp.code !== undefined) {
    alts.push([...positive, ...x.icmpField('type', notIcmp.type, 'eq'), ...x.icmpField('code', notIcmp.code, 'neq')]);
  }
  return alts;
}

function protocolNumber(p: string | number, at: Located): number {
  const n = typeof p === 'number' ? p : /^[0-9]+$/.test(p) ? Number(p) : PROTOCOLS[p.toLowerCase()];
  if (n === undefined || !Number.isInteger(n) || n < 1 || n > 255) {
    throw new CompileError('BAD_PROTOCOL', at.object, at.field, p, 'not a protocol name or a number 1-255');
  }
  return n;
}

function checkIcmp(m: IcmpMatch | undefined, proto: number | undefined, at: Located): void {
  if (!m) return;
  if (proto !== 1 && proto !== 58) throw new CompileError('BAD_ICMP', at.object, at.field, m, 'needs protocol ICMP or ICMPv6');
  if (m.code !== undefined && m.type === undefined) throw new CompileError('BAD_ICMP', at.object, at.field, m, 'a code needs a type');
}

function parsePorts(ports: readonly Port[] | undefined, at: Located): { numeric: PortRange[]; named: string[] } {
  const numeric: PortRange[] = [];
  const named: string[] = [];
  for (const [i, p] of (ports ?? []).entries()) {
    const text = String(p);
    const m = /^([0-9]{1,5})(?::([0-9]{1,5}))?$/.exec(text);
    if (!m) {
      named.push(text);
      continue;
    }
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    if (hi > 65535 || lo > hi) throw new CompileError('BAD_PORT', at.object, `${at.field}[${i}]`, p, 'not a port or range within 0-65535');
    numeric.push([lo, hi]);
  }
  return { numeric: mergePortRanges(numeric), named: [...new Set(named)].sort() };
}

function mergePortRanges(ranges: PortRange[]): PortRange[] {
  const out: PortRange[] = [];
  for (const [lo, hi] of [...ranges].sort((a, b) => a[0] - b[0] || b[1] - a[1])) {
    const last = out[out.length - 1];
    if (last && lo <= last[1] + 1) last[1] = Math.max(last[1], hi);
    else out.push([lo, hi]);
  }
  return out;
}

function resolveEntity(ctx: RuleContext, e: EntityRule, addr: AddrField, port: PortField, at: Located, proto: number | undefined): Entity {
  const sub = (f: string): Located => ({ object: at.object, field: `${at.field}.${f}` });
  const ports = parsePorts(e.ports, sub('ports'));
  const notPorts = parsePorts(e.notPorts, sub('notPorts'));
  const hasPorts = ports.numeric.length + ports.named.length + notPorts.numeric.length + notPorts.named.length > 0;
  if (hasPorts && (proto === undefined || !PORT_PROTOCOLS.has(proto))) {
    // A port match without its protocol check would read ICMP or ESP bytes as ports (nft payload-expression docs).
    throw new CompileError('PORTS_WITHOUT_PROTOCOL', at.object, sub(e.ports?.length ? 'ports' : 'notPorts').field, e.ports ?? e.notPorts,
      'ports need protocol TCP, UDP or SCTP');
  }
  const selectorOf = (text: string | undefined, f: string) => {
    if (text === undefined) return undefined;
    const sel = ctx.resolver.selector(text, sub(f));
    return { text: sel.toString(), members: ctx.resolver.members(sel) };
  };
  return {
    addr,
    port,
    nets: netsOf(e.nets, sub('nets')),
    notNets: netsOf(e.notNets, sub('notNets')),
    selector: selectorOf(e.selector, 'selector'),
    notSelector: selectorOf(e.notSelector, 'notSelector'),
    ports: ports.numeric,
    namedPorts: ports.named,
    notPorts: notPorts.numeric,
    notNamedPorts: notPorts.named,
    namedPortSelector: ctx.resolver.selector(e.selector, sub('selector')),
  };
}

function netsOf(nets: string[] | undefined, at: Located): AddressRanges | undefined {
  if (!nets || nets.length === 0) return undefined;
  const bag = new PrefixBag();
  nets.forEach((n, i) => bag.add(cidrAt(n, { object: at.object, field: `${at.field}[${i}]` })));
  return bag.merge();
}

function isFamilySpecific(rule: CalicoRule, proto: number | undefined, ...entities: Entity[]): boolean {
  if (rule.ipVersion !== undefined || proto === 1 || proto === 58) return true;
  return entities.some((e) => e.nets || e.notNets || e.selector || e.notSelector || e.namedPorts.length || e.notNamedPorts.length);
}

function candidateFamilies(rule: CalicoRule, proto: number | undefined): IpFamily[] {
  let families: IpFamily[] = rule.ipVersion ? [rule.ipVersion] : [4, 6];
  if (proto === 1) families = families.filter((f) => f === 4);
  if (proto === 58) families = families.filter((f) => f === 6);
  return families;
}

/** Every way of picking one alternative from each list, concatenated in order (an AND of ORs). */
function product(lists: Expr[][][]): Expr[][] {
  return lists.reduce<Expr[][]>((acc, list) => acc.flatMap((a) => list.map((b) => [...a, ...b])), [[]]);
}

/**
 * The address criteria of one entity in one family, as alternatives (OR); none when they cannot
 * match there. A selector's members live in two sets, prefixes (interval) and single addresses
 * (hash): a positive match is one rule per non-empty set, a negated one excludes both.
 */
function addressAlternatives(ctx: RuleContext, e: Entity, family: IpFamily): Expr[][] {
  const nets: Expr[] = [];
  for (const [list, negate] of [[e.nets, false], [e.notNets, true]] as const) {
    if (!list) continue;
    const m = netMatch(ctx, list, e.addr, family, negate);
    if (!m) return [];
    nets.push(...m);
  }
  const excluded: Expr[] = [];
  if (e.notSelector) {
    for (const set of selectorSets(ctx, e.notSelector, family)) excluded.push(...x.addrLookup(family, e.addr, set, true));
  }
  if (!e.selector) return [[...nets, ...excluded]];
  // Selectors match known endpoints and sets only: an empty selection matches nothing.
  return selectorSets(ctx, e.selector, family).map((set) => [...nets, ...x.addrLookup(family, e.addr, set, false), ...excluded]);
}

/** The non-empty sets holding a selector's members in one family: prefixes, then single addresses. */
function selectorSets(ctx: RuleContext, sel: SelectorMembers, family: IpFamily): string[] {
  const out: string[] = [];
  const comment = `selector ${sel.text}`;
  if (rangeCount(sel.members.prefixes, family) > 0) {
    out.push(ctx.sets.addresses('sel', family, sel.text, comment, () => familyElements(sel.members.prefixes, family)));
  }
  if (hostCount(sel.members, family) > 0) {
    out.push(ctx.sets.hosts('host', family, sel.text, comment, () => hostElements(sel.members, family)));
  }
  return out;
}

/** nets / notNets in one family; undefined when the criterion makes the rule unmatchable there. */
function netMatch(ctx: RuleContext, nets: AddressRanges, field: AddrField, family: IpFamily, negate: boolean): Expr[] | undefined {
  const ranges = familyRanges(nets, family);
  if (ranges.length === 0) return negate ? [] : undefined;
  if (ranges.length === 1) {
    const prefix = exactPrefix(ranges[0][0], ranges[0][1]);
    if (prefix === 0) return negate ? undefined : [];
    if (prefix !== undefined) return x.addrPrefix(family, field, ranges[0][0], prefix, negate ? 'neq' : 'eq');
  }
  const fingerprint = rangesFingerprint(ranges);
  const set = ctx.sets.addresses('net', family, fingerprint, negate ? 'notNets' : 'nets', () => intervalElements(ranges));
  return x.addrLookup(family, field, set, negate);
}

/**
 * The port criteria of one entity as alternatives (OR): numeric ports, or named ports; each
 * alternative also carries the negated criteria (notPorts, named notPorts), which AND.
 */
function portAlternatives(ctx: RuleContext, e: Entity, family: IpFamily | undefined, proto: number | undefined): Expr[][] {
  const negated: Expr[] = [];
  if (e.notPorts.length) negated.push(...numericPorts(ctx, e.port, e.notPorts, true));
  if (e.notNamedPorts.length && family !== undefined && proto !== undefined) {
    const set = namedPortSet(ctx, e, family, proto, e.notNamedPorts);
    if (set) negated.push(...x.addrProtoPortLookup(family, e.addr, e.port, set, true));
  }
  if (e.ports.length === 0 && e.namedPorts.length === 0) return [negated];
  const alts: Expr[][] = [];
  if (e.ports.length) alts.push([...numericPorts(ctx, e.port, e.ports, false), ...negated]);
  if (e.namedPorts.length && family !== undefined && proto !== undefined) {
    const set = namedPortSet(ctx, e, family, proto, e.namedPorts);
    if (set) alts.push([...x.addrProtoPortLookup(family, e.addr, e.port, set, false), ...negated]);
  }
  return alts;
}

function numericPorts(ctx: RuleContext, field: PortField, ranges: PortRange[], negate: boolean): Expr[] {
  const op = negate ? 'neq' : 'eq';
  if (ranges.length === 1) return x.portMatch(field, ranges[0][0], ranges[0][1], op);
  const fingerprint = ranges.map(([lo, hi]) => `${lo}-${hi}`).join(',');
  const set = ctx.sets.ports(fingerprint, `ports ${fingerprint}`, () =>
    intervalElements(ranges.map(([lo, hi]) => [be16(lo), be16(hi)])),
  );
  return x.portLookup(field, set, negate);
}

function be16(v: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(v);
  return b;
}

/** The named-port set for one family, or undefined when no endpoint declares those names there. */
function namedPortSet(ctx: RuleContext, e: Entity, family: IpFamily, proto: number, names: string[]): string | undefined {
  const sel = e.namedPortSelector;
  const keys = new Map<string, Buffer>();
  for (const name of names) {
    for (const m of ctx.resolver.namedPort(sel, proto, name)) {
      if (m.family !== family) continue;
      const key = Buffer.alloc(m.addr.length + 8);
      m.addr.copy(key, 0);
      key[m.addr.length] = m.proto;
      key.writeUInt16BE(m.port, m.addr.length + 4);
      keys.set(key.toString('hex'), key);
    }
  }
  if (keys.size === 0) return undefined;
  const identity = `${sel.toString()}|${proto}|${names.join(',')}`;
  const sorted = [...keys.keys()].sort();
  return ctx.sets.addrProtoPort(family, identity, `named ports ${names.join(',')} selector ${sel.toString() || 'all()'}`, () =>
    sorted.map((k) => ({ key: keys.get(k)! })),
  );
}
