// The kernel as oracle for the decoder: rules that `nft -f` installed are dumped raw from the
// kernel (dump.ts) and must decode to the expressions of the matching golden case. Where the
// kernel's dump differs from what nft sent, expectedFromKernel says why.
import assert from 'node:assert/strict';
import { AttributeReader } from '../../../src/netlink';
import { readExprs } from '../../../src/nftables/expr';
import { Expr } from '../../../src/nftables/model';
import { nftLoad } from '../../support/kernel';
import { dumpRuleExpressions } from './dump';
import { GoldenCase, goldenCases } from './golden-cases';

// Only table inet t is touched (created fresh, deleted after), inside the private test namespace.
const BASE = `table inet t
delete table inet t
table inet t {
  set s4 { type ipv4_addr; }
  map vm { type ipv4_addr : verdict; }
  chain c { }
  chain x { type filter hook prerouting priority -150; policy accept; }
  chain n { type nat hook prerouting priority -100; }
}
`;

const chainOf = (c: GoldenCase): string => c.nft.split(' ')[4]!;

/** What the kernel dumps for a case whose dump is not what nft sent. */
function expectedFromKernel(c: GoldenCase): Expr[] {
  return c.exprs.map((e): Expr => {
    if (e.type === 'lookup') {
      // Set ids live only inside a transaction and are never dumped; anonymous sets get their
      // number (nf_tables_set_alloc_name). The kernel always dumps FLAGS, 0 decodes as no invert.
      const dumped = { ...e, set: e.set.replace('%d', '0') };
      delete dumped.setId;
      return dumped;
    }
    // nft_ct_get_dump puts DIRECTION only for keys that depend on it (addresses, ports).
    if (e.type === 'ct' && e.key === 'protocol') {
      const dumped = { ...e };
      delete dumped.direction;
      return dumped;
    }
    // nft_log_dump: a syslog log always carries its level (default NFT_LOGLEVEL_WARNING 4).
    if (e.type === 'log' && e.group === undefined && e.level === undefined) return { ...e, level: 4 };
    return e;
  });
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
});
