// The compiler emits the expression sequences nft itself compiles (nftables-netlink.md 2.2), and the
// interval elements nft sends (3.2). Oracle: the compiled table is rendered to nft text, and
// `nft --debug=netlink -f` (nft 1.0.6, run inside the test's private namespace) prints what nft
// compiled from that text; both must agree expression by expression and element by element.
import assert from 'node:assert/strict';
import { compile } from '../../src/compiler';
import { nft } from '../support/kernel';
import { flushRuleset } from '../support/kernel';
import { representative } from './fixtures';
import { debugElements, debugExpr, parseNftDebug } from './netlink-debug';
import { renderRuleset } from './render';

describe('compiler output is what nft compiles @kernel', () => {
  beforeEach(() => flushRuleset());
  after(() => flushRuleset());

  const rs = compile(representative(), 'node1', { failsafeInbound: ['tcp:22', 'udp:[fd00::/8]:68', 'tcp:10.0.0.0/9:6443'] });
  let debug: ReturnType<typeof parseNftDebug>;

  before(() => {
    flushRuleset();
    debug = parseNftDebug(nft(['--debug=netlink', '-f', '-'], renderRuleset(rs)), 'inet', 'flockguard');
  });

  it('every rule of every chain has nft\'s expression sequence', () => {
    let compared = 0;
    for (const chain of rs.chains) {
      const ours = (rs.rules.get(chain.name) ?? []).map((r) => r.exprs.map(debugExpr));
      assert.deepEqual(ours, debug.rules.get(chain.name) ?? [], `chain ${chain.name}`);
      compared += ours.length;
    }
    assert.ok(compared > 30, `compared ${compared} rules`);
  });

  it('every set has nft\'s elements (zero sentinel, end keys, open interval at the top)', () => {
    for (const set of rs.sets) assert.equal(debugElements(set.elements ?? []), debug.elements.get(set.name), `set ${set.name}`);
    const open = rs.sets.find((s) => s.elements?.some((e) => e.open));
    assert.ok(open, 'the 255.255.255.0/24 net makes an open interval');
  });
});
