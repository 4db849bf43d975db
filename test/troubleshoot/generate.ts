// Test-only: random small policy sets and packets for the evaluator-vs-kernel property test. Values
// come from small pools so that rules and packets meet often: nets that contain (or just miss) the
// packet addresses, ports on both sides of ranges, every action, tiers, Pass, Log, failsafe ports,
// interface, wildcard and address-bound host endpoints, network sets and named ports.
import { GlobalNetworkPolicy, HostEndpoint, Resource, Rule } from '../../src/policy/model';
import { gnp, gns, hep, tier } from '../compiler/fixtures';
import { FrameSpec } from './wire';

/** mulberry32: a seeded PRNG, so a failing case can be replayed from its seed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class Gen {
  constructor(readonly rand: () => number) {}

  int(lo: number, hi: number): number {
    return lo + Math.floor(this.rand() * (hi - lo + 1));
  }

  pick<T>(xs: readonly T[]): T {
    return xs[this.int(0, xs.length - 1)];
  }

  chance(p: number): boolean {
    return this.rand() < p;
  }

  some<T>(xs: readonly T[], max: number): T[] {
    const n = this.int(1, max);
    return Array.from({ length: n }, () => this.pick(xs));
  }
}

export const SRC4 = ['10.0.0.1', '10.0.1.5', '10.1.2.3', '192.168.1.10', '172.16.5.4'];
export const DST4 = ['10.9.0.1', '10.9.0.2'];
export const SRC6 = ['fd00::1', 'fd00:1::5', '2001:db8::7'];
export const DST6 = ['fd09::1', 'fd09::2'];
const NETS = ['10.0.0.0/8', '10.0.0.0/24', '10.1.0.0/16', '192.168.0.0/16', '172.16.0.0/12', '10.9.0.1/32', '10.9.0.0/30', '0.0.0.0/0',
  'fd00::/16', 'fd00:1::/32', '2001:db8::/32', 'fd09::1/128', 'fd09::/64'];
const PORTS: Array<number | string> = [22, 53, 68, 80, 443, 8080, '1000:2000', 5000];
const ACTIONS: Rule['action'][] = ['Allow', 'Deny', 'Pass', 'Log'];

function entity(g: Gen, withPorts: boolean, withNamed: boolean): NonNullable<Rule['source']> {
  const e: NonNullable<Rule['source']> = {};
  if (g.chance(0.4)) e.nets = g.some(NETS, 2);
  if (g.chance(0.2)) e.notNets = g.some(NETS, 2);
  if (g.chance(0.15)) e.selector = "set == 'x'";
  if (g.chance(0.1)) e.notSelector = "set == 'x'";
  if (withPorts && g.chance(0.5)) e.ports = g.some(withNamed && g.chance(0.3) ? [...PORTS, 'web'] : PORTS, 2);
  if (withPorts && g.chance(0.2)) e.notPorts = g.some(PORTS, 2);
  return e;
}

function rule(g: Gen): Rule {
  const r: Rule = { action: g.pick(ACTIONS) };
  const proto = g.pick(['TCP', 'UDP', 'ICMP', 'ICMPv6', undefined, undefined] as const);
  if (proto) r.protocol = proto;
  else if (g.chance(0.2)) r.notProtocol = g.pick(['TCP', 'UDP']);
  const ports = proto === 'TCP' || proto === 'UDP';
  if (g.chance(0.6)) r.source = entity(g, ports, false);
  if (g.chance(0.6)) r.destination = entity(g, ports, proto === 'TCP');
  if ((proto === 'ICMP' || proto === 'ICMPv6') && g.chance(0.5)) {
    const type = proto === 'ICMP' ? g.pick([8, 0, 13]) : g.pick([128, 129]);
    if (g.chance(0.7)) r.icmp = { type };
    else r.notICMP = { type };
  }
  if (!proto && g.chance(0.15)) r.ipVersion = g.pick([4, 6] as const);
  return r;
}

/** A small policy set for node1 whose endpoints may or may not cover interface `rx`. */
export function policySet(g: Gen, rx: string): Resource[] {
  const out: Resource[] = [gns('set-x', g.some(NETS, 3), { set: 'x' })];
  const heps: HostEndpoint[] = [];
  const shapes = g.some(['rx', 'star', 'byip', 'other'] as const, 2);
  for (const [i, shape] of shapes.entries()) {
    const labels = { role: g.pick(['a', 'b']) };
    const ports = [{ name: 'web', protocol: 'TCP' as const, port: g.pick([80, 8080]) }];
    if (shape === 'rx') heps.push(hep(`h${i}-rx`, { interfaceName: rx, expectedIPs: [DST4[0]], ports }, labels));
    if (shape === 'star') heps.push(hep(`h${i}-star`, { interfaceName: '*', expectedIPs: [DST4[0]], ports }, labels));
    if (shape === 'byip') heps.push(hep(`h${i}-byip`, { expectedIPs: [g.pick(DST4), g.pick(DST6)], ports }, labels));
    if (shape === 'other') heps.push(hep(`h${i}-other`, { interfaceName: 'eth9', expectedIPs: [DST4[1]] }, labels));
  }
  out.push(...heps);
  const tiers = g.chance(0.4) ? ['t1'] : [];
  for (const t of tiers) out.push(tier(t, g.int(1, 200)));
  const n = g.int(1, 4);
  for (let i = 0; i < n; i++) {
    const spec: Partial<GlobalNetworkPolicy['spec']> = {
      order: g.int(1, 100),
      selector: g.pick(['has(role)', "role == 'a'", "role == 'b'"]),
    };
    if (tiers.length && g.chance(0.5)) spec.tier = tiers[0];
    out.push(gnp(`p${i}`, spec, Array.from({ length: g.int(1, 3) }, () => rule(g))));
  }
  return out;
}

export function packet(g: Gen): FrameSpec {
  const v6 = g.chance(0.3);
  const proto = v6 ? g.pick(['tcp', 'udp', 'icmpv6'] as const) : g.pick(['tcp', 'udp', 'icmp'] as const);
  const spec: FrameSpec = { src: g.pick(v6 ? SRC6 : SRC4), dst: g.pick(v6 ? DST6 : DST4), proto };
  if (proto === 'icmp') spec.icmpType = g.pick([8, 8, 0, 13]);
  else if (proto === 'icmpv6') spec.icmpType = g.pick([128, 128, 129, 135]);
  else {
    spec.sport = g.chance(0.2) ? g.pick([22, 53, 1500]) : g.int(20000, 60000);
    spec.dport = g.pick([22, 53, 67, 68, 80, 443, 1000, 1500, 2000, 2001, 5000, 8080, 9999]);
  }
  return spec;
}
