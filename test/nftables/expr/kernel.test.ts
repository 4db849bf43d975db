// The kernel as oracle for the decoder and for dumpedForm: rules that `nft -f` installed are dumped
// raw from the kernel (dump.ts) and must decode to the dumped form of the matching golden case's
// expressions.
import assert from 'node:assert/strict';
import { AttributeReader } from '../../../src/netlink';
import { dumpedForm, readExprs } from '../../../src/nftables/expr';
import { Expr } from '../../../src/nftables/model';
import { nftLoad } from '../../support/kernel';
import { appendRule, dumpRuleExpressions } from './raw';
import { GoldenCase, goldenCases, hex, hostU32 } from './golden-cases';

// Only table inet t is touched (created fresh, deleted after), inside the private test namespace.
const BASE = `table inet t
delete table inet t
table inet t {
  set s4 { type ipv4_addr; }
  map vm { type ipv4_addr : verdict; }
  chain c { }
  chain x { type filter hook prerouting priority -150; policy accept; }
  chain n { type nat hook prerouting priority -100; }
  chain ours { }
}
`;

const chainOf = (c: GoldenCase): string => c.nft.split(' ')[4]!;

/** What the kernel dumps for a case: dumpedForm, with the kernel's names for anonymous sets. */
function expectedFromKernel(c: GoldenCase): Expr[] {
  return c.exprs.map(dumpedForm).map((e) => (e.type === 'lookup' ? { ...e, set: e.set.replace('%d', '0') } : e));
}

/** Attributes the kernel's ->dump adds to what nft sent, by expression name ("type:hex"). */
const DUMP_DEFAULTS: Record<string, string[]> = {
  // nft_nat_dump: NFTA_NAT_REG_ADDR_MAX (= min, reg 1) and NFTA_NAT_FLAGS NF_NAT_RANGE_MAP_IPS.
  nat: ['4:00000001', '7:00000001'],
  // nft_payload_set_dump: NFTA_PAYLOAD_CSUM_FLAGS 0.
  payload: ['8:00000000'],
};

/**
 * Opaque expressions compared by their attributes as a set: the kernel's ->dump writes them in its
 * own order (nft_ct_get_dump and nft_fib_dump put DREG first, for instance), not libnftnl's.
 */
function attributeSet(e: Expr, withDumpDefaults = false): Expr | { type: 'opaque'; name: string; attributes: string[] } {
  if (e.type !== 'opaque') return e;
  const attributes = new AttributeReader(e.data).entries().map(([t, p]) => `${t}:${p.toString('hex')}`);
  if (withDumpDefaults) attributes.push(...(DUMP_DEFAULTS[e.name] ?? []));
  return { type: 'opaque', name: e.name, attributes: attributes.sort() };
}

describe('nf_tables expressions: decoding what the kernel holds @kernel', () => {
  before(() => {
    assert.equal(process.env.FLOCKGUARD_TEST_NETNS, '1', 'kernel tests run in the private namespace mocha creates');
    nftLoad(BASE + goldenCases.map((c) => c.nft).join('\n') + '\n');
  });
  after(() => nftLoad('delete table inet t\n'));

  for (const chain of ['x', 'n']) {
    it(`decodes every rule nft installed in chain ${chain} to the expected expressions`, async () => {
      const cases = goldenCases.filter((c) => chainOf(c) === chain);
      const dumped = await dumpRuleExpressions('inet', 't', chain);
      assert.equal(dumped.length, cases.length, 'one dumped rule per golden case');
      cases.forEach((c, i) => {
        const decoded = readExprs(new AttributeReader(dumped[i]!));
        const expected = expectedFromKernel(c).map((e) => attributeSet(e, true));
        assert.deepStrictEqual(decoded.map((e) => attributeSet(e)), expected, `nft ${c.nft}`);
      });
    });
  }

  describe('rules we encode ourselves', () => {
    const payload = (offset: number, len: number, base: 'network' | 'transport' = 'network'): Expr => ({ type: 'payload', base, offset, len, dreg: 1 });
    const cmp = (data: string, op: 'eq' | 'neq' = 'eq'): Expr => ({ type: 'cmp', sreg: 1, op, data: hex(data) });
    const rules: Array<[string, Expr[]]> = [
      ['a compiled-style rule', [
        { type: 'meta', key: 'iifname', dreg: 1 }, cmp('657468'),
        { type: 'meta', key: 'nfproto', dreg: 1 }, cmp('02'),
        payload(12, 4), { type: 'bitwise', sreg: 1, dreg: 1, len: 4, mask: hex('fff00000'), xor: hex('00000000') }, cmp('0a000000'),
        { type: 'meta', key: 'l4proto', dreg: 1 }, cmp('06'),
        payload(2, 2, 'transport'), { type: 'range', sreg: 1, op: 'neq', from: hex('03e8'), to: hex('07d0') },
        { type: 'ct', key: 'state', dreg: 1 }, { type: 'bitwise', sreg: 1, dreg: 1, len: 4, mask: hex(hostU32(6)), xor: hex(hostU32(0)) }, cmp(hostU32(0), 'neq'),
        { type: 'counter', packets: 0n, bytes: 0n },
        { type: 'log', prefix: 'flockguard ' },
        { type: 'immediate', dreg: 0, verdict: { kind: 'jump', chain: 'c' } },
      ]],
      ['a lookup naming a set id as well', [payload(16, 4), { type: 'lookup', set: 's4', sreg: 1, setId: 77, invert: true }]],
      ['a syslog log with zero flags', [{ type: 'log', flags: 0 }]],
      ['an nflog log with zero snaplen and queue threshold', [{ type: 'log', group: 3, snaplen: 0, qthreshold: 0 }]],
      ['a packet limit with burst 0', [{ type: 'limit', rate: 100n, unit: 60n, burst: 0, limitType: 'packets' }]],
      ['ct protocol with a direction', [{ type: 'ct', key: 'protocol', dreg: 1, direction: 'reply' }, cmp('11')]],
      ['ct mark set and meta nftrace set', [
        { type: 'immediate', dreg: 1, data: hex(hostU32(0x2a)) }, { type: 'ct', key: 'mark', sreg: 1 },
        { type: 'immediate', dreg: 1, data: hex('01') }, { type: 'meta', key: 'nftrace', sreg: 1 },
      ]],
      ['a verdict map lookup and a foreign expression', [payload(12, 4), { type: 'lookup', set: 'vm', sreg: 1, dreg: 0 }, { type: 'opaque', name: 'notrack', data: Buffer.alloc(0) }]],
    ];

    it('the kernel accepts them and dumps back their dumpedForm', async () => {
      for (const [, exprs] of rules) await appendRule('inet', 't', 'ours', exprs);
      const dumped = await dumpRuleExpressions('inet', 't', 'ours');
      assert.equal(dumped.length, rules.length);
      rules.forEach(([what, exprs], i) => {
        assert.deepStrictEqual(readExprs(new AttributeReader(dumped[i]!)), exprs.map(dumpedForm), what);
      });
    });

    it('names the errno when the kernel refuses one', async () => {
      await assert.rejects(appendRule('inet', 't', 'ours', [payload(12, 4), { type: 'lookup', set: 'missing', sreg: 1 }]), /errno 2\b/);
    });
  });
});
