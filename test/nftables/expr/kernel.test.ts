// The kernel as oracle for the decoder: rules that `nft -f` installed are dumped raw from the
// kernel (dump.ts) and must decode to the expressions of the matching golden case. Where the
// kernel's dump differs from what nft sent, the case below says why.
import assert from 'node:assert/strict';
import { AttributeReader } from '../../../src/netlink';
import { readExprs } from '../../../src/nftables/expr';
import { Expr } from '../../../src/nftables/model';
import { nftLoad } from '../../support/kernel';
import { dumpRuleExpressions } from './dump';
import { GoldenCase, goldenCases, hex } from './golden-cases';

// Only table inet t is touched (created fresh, deleted after), inside the private test namespace.
const BASE = `table inet t
delete table inet t
table inet t {
  set s4 { type ipv4_addr; }
  map vm { type ipv4_addr : verdict; }
  chain c { }
  chain x { type filter hook prerouting priority -150; policy accept; }
}
`;

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
    // Kernel dump order for expressions we keep opaque (nft_ct_get_dump and nft_fib_dump put DREG first).
    if (e.type === 'opaque' && e.name === 'ct') return { ...e, data: hex('08000100000000010800020000000013' + '0500030000000000') };
    if (e.type === 'opaque' && e.name === 'fib') return { ...e, data: hex('080001000000000108000200000000030800030000000002') };
    return e;
  });
}

describe('nf_tables expressions: decoding what the kernel holds @kernel', () => {
  before(() => {
    assert.equal(process.env.FLOCKGUARD_TEST_NETNS, '1', 'kernel tests run in the private namespace mocha creates');
    nftLoad(BASE + goldenCases.map((c) => c.nft).join('\n') + '\n');
  });
  after(() => nftLoad('delete table inet t\n'));

  it('decodes every rule nft installed to the expected expressions', async () => {
    const dumped = await dumpRuleExpressions('inet', 't', 'x');
    assert.equal(dumped.length, goldenCases.length, 'one dumped rule per golden case');
    goldenCases.forEach((c, i) => {
      assert.deepStrictEqual(readExprs(new AttributeReader(dumped[i]!)), expectedFromKernel(c), `nft ${c.nft}`);
    });
  });
});
