// formatExprs against nft itself: rules loaded with `nft -f`, dumped raw from the kernel and
// decoded, must format to exactly the line `nft list` prints for them (for the shapes format.ts
// covers), plus unit tests for the fallback to the low-level form.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { AttributeReader } from '../../../src/netlink';
import { readExprs } from '../../../src/nftables/expr';
import { formatExprs } from '../../../src/nftables/format';
import { ipv6 } from '../../../src/nftables/expr/values';
import { Expr, Family } from '../../../src/nftables/model';
import { nft, nftLoad } from '../../support/kernel';
import { dumpRuleExpressions } from './raw';
import { goldenCases, hex } from './golden-cases';

const INET_RULES = [
  'iifname "eth0" ip saddr 10.0.0.0/8 counter accept',
  'iifname "eth*" ip6 saddr 2001:db8::/32 tcp dport 22 drop',
  'ct state established,related accept',
  'ct state invalid drop',
  'meta l4proto udp th dport 53 accept',
  'ip saddr != @s4 log prefix "blk " level info drop',
  'ip daddr 10.0.0.0/12 tcp dport 1000-2000 jump c',
  'ip saddr vmap @vm',
  'meta nftrace set 1',
  'limit rate 10/second accept',
  'meta mark 0x2a ct mark set 0x5',
  'tcp dport != 1000-2000 goto c',
  'ip6 daddr 2001:db8::1 udp sport 53 return',
  'meta mark and 0xff == 0x1',
  'ct mark set ct mark and 0xff00',
  'log group 5 snaplen 128 queue-threshold 10',
  'limit rate over 100 kbytes/second burst 50 kbytes drop',
  'oifname "veth*" counter',
  'ip saddr 10.0.0.1-10.0.0.9',
  'ip protocol icmp',
  'ct status dnat',
  'meta nfproto ipv6',
  'ip6 nexthdr ipv6-icmp accept',
  'tcp sport < 1024 tcp dport >= 8000 counter log',
  'ct state new,untracked ct direction reply',
  'meta l4proto tcp ip saddr 192.168.0.0/16 ip daddr @s4 log flags tcp sequence,options accept',
  'log level debug flags all',
  'ip6 saddr ::/0 ip6 hoplimit 1 drop',
  'icmp type echo-request accept',
  'icmp type destination-unreachable icmp code frag-needed accept',
  'icmpv6 type 133-137 accept',
  'icmpv6 type packet-too-big accept',
  'icmp code host-unreachable drop',
  'ip saddr 10.9.0.0/16 icmp type != echo-request',
  'ip daddr . meta l4proto . th dport @cc accept',
  'ip6 daddr . meta l4proto . th dport != @c6 drop',
  'meta l4proto tcp th dport @p',
  'meta l4proto != udp',
];
const IP_RULES = ['ip saddr 10.0.0.0/8 tcp dport 22 accept', 'ip daddr 10.1.0.0/16 ip ttl > 10 udp sport 53 drop'];

// Only tables inet t and ip t4 are touched, inside the private test namespace.
const RULESET = `table inet t
delete table inet t
table ip t4
delete table ip t4
table inet t {
  set s4 { type ipv4_addr; }
  map vm { type ipv4_addr : verdict; }
  set cc { type ipv4_addr . inet_proto . inet_service; }
  set c6 { type ipv6_addr . inet_proto . inet_service; }
  set p { type inet_service; }
  chain c { }
  chain x {
    type filter hook prerouting priority -150; policy accept;
${INET_RULES.map((r) => `    ${r}`).join('\n')}
  }
}
table ip t4 {
  chain y {
    type filter hook input priority 0; policy accept;
${IP_RULES.map((r) => `    ${r}`).join('\n')}
  }
}
`;

/** The rule lines `nft list chain` prints, in order. */
function listedRules(family: Family, table: string, chain: string): string[] {
  const lines = nft(['list', 'chain', family, table, chain]).split('\n').map((l) => l.trim());
  return lines.filter((l) => l && !l.startsWith('table ') && !l.startsWith('chain ') && !l.startsWith('type ') && l !== '}');
}

describe('formatExprs: the text nft list prints @kernel', () => {
  before(() => {
    assert.equal(process.env.FLOCKGUARD_TEST_NETNS, '1', 'kernel tests run in the private namespace mocha creates');
    nftLoad(RULESET);
  });
  after(() => nftLoad('delete table inet t\ndelete table ip t4\n'));

  for (const [family, table, chain, count] of [['inet', 't', 'x', INET_RULES.length], ['ip', 't4', 'y', IP_RULES.length]] as const) {
    it(`formats every rule of ${family} ${table} ${chain} as nft list does`, async () => {
      const listed = listedRules(family, table, chain);
      const dumped = await dumpRuleExpressions(family, table, chain);
      assert.equal(listed.length, count);
      assert.equal(dumped.length, count);
      const ours = dumped.map((d) => formatExprs(readExprs(new AttributeReader(d)), { family }));
      assert.deepStrictEqual(ours, listed);
    });
  }
});

describe('formatExprs: fallbacks and what it does not cover', () => {
  const golden = (nftCommand: string): Expr[] => goldenCases.find((c) => c.nft === `add rule inet t x ${nftCommand}`)!.exprs;

  it('prints unknown expressions and the loads they consume in the low-level form', () => {
    assert.equal(
      formatExprs(golden('fib daddr type local'), { family: 'inet' }),
      '[ fib 0x080003000000000208000200000000030800010000000001 ] [ cmp eq reg 1 0x02000000 ]',
    );
    assert.equal(formatExprs(golden('notrack')), '[ notrack ]');
  });

  it('forgets registers an opaque expression may have written', () => {
    // meta mark set meta mark << 8: the shift is opaque, so reg 1 no longer holds "meta mark".
    assert.equal(
      formatExprs(golden('meta mark set meta mark << 8')),
      '[ meta load mark => reg 1 ] [ bitwise 0x08000100000000010800020000000001080006000000000108000300000000040c0007800800010008000000 ] [ meta set mark with reg 1 ]',
    );
  });

  it('forgets a register overwritten through an aliasing 4-byte register', () => {
    // NFT_REG32_01 (9) is bytes 4..7 of NFT_REG_1: the 16-byte address in reg 1 is clobbered.
    const exprs: Expr[] = [
      { type: 'payload', base: 'network', offset: 24, len: 16, dreg: 1 },
      { type: 'immediate', dreg: 9, data: hex('00000000') },
      { type: 'cmp', sreg: 1, op: 'eq', data: hex('20010db8000000000000000000000001') },
    ];
    assert.equal(
      formatExprs(exprs, { family: 'ip6' }),
      '[ payload load 16b @ network header + 24 => reg 1 ] [ immediate reg 9 0x00000000 ] [ cmp eq reg 1 0x20010db8000000000000000000000001 ]',
    );
    assert.equal(formatExprs([exprs[0]!, exprs[2]!], { family: 'ip6' }), 'ip6 daddr 2001:db8::1');
  });

  it('names network fields only when the family or an nfproto match says which header it is', () => {
    const load: Expr[] = [{ type: 'payload', base: 'network', offset: 12, len: 4, dreg: 1 }, { type: 'cmp', sreg: 1, op: 'eq', data: hex('0a000001') }];
    assert.equal(formatExprs(load, { family: 'ip' }), 'ip saddr 10.0.0.1');
    assert.equal(formatExprs(load, { family: 'inet' }), '[ payload load 4b @ network header + 12 => reg 1 ] [ cmp eq reg 1 0x0a000001 ]');
  });

  it('prints anonymous sets by name and interfaces by index (nft resolves both, we do not)', () => {
    assert.equal(formatExprs(golden('ip saddr { 1.2.3.4, 5.6.7.8 }')), 'ip saddr @__set%d');
    assert.equal(formatExprs(golden('iif "lo"')), 'iif 1');
  });

  it('writes IPv6 addresses in canonical RFC 5952 form (as the WHATWG URL serializer does)', () => {
    // Few non-zero groups, so that runs of zeros (the interesting case) are common.
    const group = fc.oneof(fc.constant(0), fc.constant(0), fc.integer({ min: 0, max: 0xffff }));
    fc.assert(fc.property(fc.array(group, { minLength: 8, maxLength: 8 }), (groups) => {
      const bytes = Buffer.alloc(16);
      groups.forEach((g, i) => bytes.writeUInt16BE(g, i * 2));
      const full = groups.map((g) => g.toString(16)).join(':');
      assert.equal(`[${ipv6(bytes)}]`, new URL(`http://[${full}]/`).hostname);
    }), { numRuns: 3000 });
  });
});
