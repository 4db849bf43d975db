import assert from 'node:assert/strict';
import { ElementFlags, NftSet, Rule, SetElement, SetFlags } from '../../src/nftables/model';
import { diff } from '../../src/reconciler/diff';
import { learnHandles } from '../../src/reconciler/handles';
import { PlanOp } from '../../src/reconciler/plan';
import {
  asLive, baseChain, intervalElements, ip, ipv4Set, jumpRule, lookupRule, portRule, regularChain, ruleset,
} from './fixtures';

const opNames = (ops: PlanOp[]): string[] => ops.map((o) => o.op);
const indexOf = (ops: PlanOp[], pred: (o: PlanOp) => boolean): number => {
  const i = ops.findIndex(pred);
  assert.notEqual(i, -1, 'expected op not in plan');
  return i;
};
const keysOf = (ops: PlanOp[], op: 'addElements' | 'deleteElements'): string[] =>
  ops.flatMap((o) => (o.op === op ? o.elements.map((e) => `${e.key.toString('hex')}${(e.flags ?? 0) & ElementFlags.intervalEnd ? '/end' : ''}${e.open ? '/open' : ''}`) : []));

describe('reconciler diff', () => {
  const web = (): Rule[] => [portRule('prerouting', 22), portRule('prerouting', 80), portRule('prerouting', 443)];

  it('creates the table, then chains, sets and rules when nothing is live', () => {
    const desired = ruleset([baseChain(), regularChain('hep-eth0')],
      [jumpRule('prerouting', 'hep-eth0'), lookupRule('hep-eth0', 'blocked')],
      [ipv4Set('blocked', intervalElements([['10.0.0.0', '10.255.255.255']]), true)]);
    const plan = diff(desired, undefined);
    const ops = plan.ops;
    assert.equal(ops[0]!.op, 'addTable');
    assert.ok(indexOf(ops, (o) => o.op === 'addSet') < indexOf(ops, (o) => o.op === 'addRule' && o.rule.chain === 'hep-eth0'));
    assert.ok(indexOf(ops, (o) => o.op === 'addChain' && o.chain.name === 'hep-eth0')
      < indexOf(ops, (o) => o.op === 'addRule' && o.rule.chain === 'prerouting'));
    assert.deepEqual(plan.summary, {
      tablesAdded: 1, chainsAdded: 2, chainsDeleted: 0, rulesAdded: 2, rulesReplaced: 0, rulesDeleted: 0,
      setsAdded: 1, setsDeleted: 0, elementsAdded: 3, elementsDeleted: 0,
    });
    // Nothing is positioned against a handle that does not exist yet.
    assert.ok(ops.every((o) => o.op !== 'addRule' || o.before === undefined));
  });

  it('plans nothing when live equals desired, whatever the counters and the element order', () => {
    const desired = ruleset([baseChain()], [...web(), lookupRule('prerouting', 'blocked')],
      [ipv4Set('blocked', intervalElements([['10.0.0.0', '10.0.255.255'], ['192.168.1.0', '192.168.1.255']]), true),
        ipv4Set('hosts', [{ key: ip('1.2.3.4') }, { key: ip('5.6.7.8') }], false)]);
    assert.deepEqual(diff(desired, asLive(desired)).ops, []);
  });

  it('replaces a changed rule in place, keeping its handle, and leaves the others alone', () => {
    const live = asLive(ruleset([baseChain()], web()));
    const desired = ruleset([baseChain()], [portRule('prerouting', 22), portRule('prerouting', 8080), portRule('prerouting', 443)]);
    const plan = diff(desired, live);
    assert.deepEqual(opNames(plan.ops), ['replaceRule']);
    const op = plan.ops[0] as Extract<PlanOp, { op: 'replaceRule' }>;
    assert.equal(op.rule.handle, live.rules.get('prerouting')![1]!.handle);
    assert.deepEqual(op.rule.exprs[3], { type: 'cmp', sreg: 1, op: 'eq', data: Buffer.from([0x1f, 0x90]) });
  });

  it('inserts a new rule before the next kept rule, and appends at the end', () => {
    const live = asLive(ruleset([baseChain()], web()));
    const desired = ruleset([baseChain()], [portRule('prerouting', 22), portRule('prerouting', 25), portRule('prerouting', 80),
      portRule('prerouting', 443), portRule('prerouting', 8443)]);
    const plan = diff(desired, live);
    const adds = plan.ops.filter((o): o is Extract<PlanOp, { op: 'addRule' }> => o.op === 'addRule');
    assert.equal(adds.length, 2);
    assert.equal(adds[0]!.before, live.rules.get('prerouting')![1]!.handle);
    assert.equal(adds[1]!.before, undefined);
    assert.equal(plan.summary.rulesAdded, 2);
    assert.equal(plan.summary.rulesReplaced + plan.summary.rulesDeleted, 0);
  });

  it('keeps several inserted rules in order before one anchor', () => {
    const live = asLive(ruleset([baseChain()], [portRule('prerouting', 22), portRule('prerouting', 443)]));
    const desired = ruleset([baseChain()], [portRule('prerouting', 22), portRule('prerouting', 80), portRule('prerouting', 81),
      portRule('prerouting', 443)]);
    const adds = diff(desired, live).ops.filter((o): o is Extract<PlanOp, { op: 'addRule' }> => o.op === 'addRule');
    // Each "insert before 443" lands right before it, so sending 80 then 81 gives 22, 80, 81, 443.
    assert.deepEqual(adds.map((a) => a.rule.exprs[3]), [80, 81].map((p) => ({ type: 'cmp', sreg: 1, op: 'eq', data: Buffer.from([0, p]) })));
    assert.ok(adds.every((a) => a.before === live.rules.get('prerouting')![1]!.handle));
  });

  it('deletes a removed rule by handle', () => {
    const live = asLive(ruleset([baseChain()], web()));
    const desired = ruleset([baseChain()], [portRule('prerouting', 22), portRule('prerouting', 443)]);
    const plan = diff(desired, live);
    assert.deepEqual(plan.ops, [{ op: 'deleteRule', rule: live.rules.get('prerouting')![1] }]);
  });

  it('treats a changed comment as a changed rule', () => {
    const live = asLive(ruleset([baseChain()], [portRule('prerouting', 22, 'accept', 'policy=a rule=0 action=Allow')]));
    const desired = ruleset([baseChain()], [portRule('prerouting', 22, 'accept', 'policy=b rule=0 action=Allow')]);
    assert.deepEqual(opNames(diff(desired, live).ops), ['replaceRule']);
  });

  it('adds and removes hash set elements one by one', () => {
    const live = asLive(ruleset([baseChain()], [], [ipv4Set('hosts', [{ key: ip('1.1.1.1') }, { key: ip('2.2.2.2') }], false)]));
    const desired = ruleset([baseChain()], [], [ipv4Set('hosts', [{ key: ip('2.2.2.2') }, { key: ip('3.3.3.3') }], false)]);
    const plan = diff(desired, live);
    assert.deepEqual(opNames(plan.ops), ['deleteElements', 'addElements']);
    assert.deepEqual(keysOf(plan.ops, 'deleteElements'), ['01010101']);
    assert.deepEqual(keysOf(plan.ops, 'addElements'), ['03030303']);
  });

  it('deletes a range with both its start and end element, and never the zero sentinel', () => {
    const live = asLive(ruleset([baseChain()], [], [ipv4Set('nets', intervalElements([['10.0.0.0', '10.0.0.255'], ['10.0.2.0', '10.0.2.255']]), true)]));
    const desired = ruleset([baseChain()], [], [ipv4Set('nets', intervalElements([['10.0.2.0', '10.0.2.255']]), true)]);
    const plan = diff(desired, live);
    assert.deepEqual(keysOf(plan.ops, 'deleteElements').sort(), ['0a000000', '0a000100/end']);
    assert.deepEqual(keysOf(plan.ops, 'addElements'), []);
  });

  it('resends an adjacent range merged with its neighbour instead of stacking end elements', () => {
    const live = asLive(ruleset([baseChain()], [], [ipv4Set('nets', intervalElements([['10.0.0.0', '10.0.0.255'], ['10.0.5.0', '10.0.5.255']]), true)]));
    // 10.0.1.0/24 is adjacent to 10.0.0.0/24: the desired side (normalised) holds 10.0.0.0-10.0.1.255.
    const desired = ruleset([baseChain()], [], [ipv4Set('nets', intervalElements([['10.0.0.0', '10.0.1.255'], ['10.0.5.0', '10.0.5.255']]), true)]);
    const plan = diff(desired, live);
    assert.deepEqual(keysOf(plan.ops, 'deleteElements').sort(), ['0a000000', '0a000100/end']);
    assert.deepEqual(keysOf(plan.ops, 'addElements').sort(), ['0a000000', '0a000200/end']);
    assert.ok(indexOf(plan.ops, (o) => o.op === 'deleteElements') < indexOf(plan.ops, (o) => o.op === 'addElements'));
  });

  it('sees unmerged adjacent live ranges as equal to the merged desired range', () => {
    const liveElems = intervalElements([['10.0.0.0', '10.0.0.255'], ['10.0.1.0', '10.0.1.255']]);
    const live = asLive(ruleset([baseChain()], [], [ipv4Set('nets', liveElems, true)]));
    const desired = ruleset([baseChain()], [], [ipv4Set('nets', intervalElements([['10.0.0.0', '10.0.1.255']]), true)]);
    assert.deepEqual(diff(desired, live).ops, []);
  });

  it('handles open ranges that run to the top of the address space', () => {
    const live = asLive(ruleset([baseChain()], [], [ipv4Set('nets', intervalElements([['10.0.0.0', '10.0.0.255']]), true)]));
    const desired = ruleset([baseChain()], [], [ipv4Set('nets', intervalElements([['10.0.0.0', '10.0.0.255'], ['255.255.255.0', '255.255.255.255']]), true)]);
    const plan = diff(desired, live);
    assert.deepEqual(keysOf(plan.ops, 'addElements'), ['ffffff00/open']);
    assert.deepEqual(keysOf(plan.ops, 'deleteElements'), []);
  });

  it('re-points a map element by deleting and re-adding it', () => {
    const vmap = (target: string): NftSet => ({
      family: 'inet', table: 'flockguard', name: 'ifaces', flags: SetFlags.map, keyType: 41, keyLen: 16,
      dataType: 0xffffff00, dataLen: 0, elements: [{ key: Buffer.alloc(16, 1), verdict: { kind: 'jump', chain: target } }],
    });
    const live = asLive(ruleset([baseChain(), regularChain('a'), regularChain('b')], [], [vmap('a')]));
    const plan = diff(ruleset([baseChain(), regularChain('a'), regularChain('b')], [], [vmap('b')]), live);
    assert.deepEqual(opNames(plan.ops), ['deleteElements', 'addElements']);
  });

  it('recreates a set whose definition changed, moving its rules out first and back after', () => {
    const live = asLive(ruleset([baseChain()], [portRule('prerouting', 22), lookupRule('prerouting', 'blocked'), portRule('prerouting', 80)],
      [ipv4Set('blocked', [{ key: ip('1.1.1.1') }], false)]));
    const desired = ruleset([baseChain()], [portRule('prerouting', 22), lookupRule('prerouting', 'blocked'), portRule('prerouting', 80)],
      [ipv4Set('blocked', intervalElements([['1.1.1.0', '1.1.1.255']]), true)]);
    const plan = diff(desired, live);
    const ops = plan.ops;
    const delRule = indexOf(ops, (o) => o.op === 'deleteRule');
    const delSet = indexOf(ops, (o) => o.op === 'deleteSet');
    const addSet = indexOf(ops, (o) => o.op === 'addSet');
    const addRule = indexOf(ops, (o) => o.op === 'addRule');
    assert.ok(delRule < delSet && delSet < addSet && addSet < addRule, opNames(ops).join(','));
    const add = ops[addRule] as Extract<PlanOp, { op: 'addRule' }>;
    assert.equal(add.before, live.rules.get('prerouting')![2]!.handle, 're-inserted where it was');
    assert.equal(plan.summary.rulesReplaced, 0);
    assert.ok(!ops.some((o) => o.op === 'addTable' || o.op === 'deleteChain'));
  });

  it('removes a stale chain only after the rule that jumps to it', () => {
    const live = asLive(ruleset([baseChain(), regularChain('old')], [jumpRule('prerouting', 'old'), portRule('old', 22)]));
    const desired = ruleset([baseChain()], [portRule('prerouting', 22)]);
    const plan = diff(desired, live);
    const ops = plan.ops;
    const release = indexOf(ops, (o) => (o.op === 'replaceRule' || o.op === 'deleteRule') && o.rule.chain === 'prerouting');
    assert.ok(release < indexOf(ops, (o) => o.op === 'deleteChain' && o.chain.name === 'old'));
    assert.equal(plan.summary.chainsDeleted, 1);
  });

  it('removes stale sets after the rules that look them up', () => {
    const live = asLive(ruleset([baseChain()], [lookupRule('prerouting', 'old')], [ipv4Set('old', [{ key: ip('1.1.1.1') }], false)]));
    const plan = diff(ruleset([baseChain()], []), live);
    assert.deepEqual(opNames(plan.ops), ['deleteRule', 'deleteSet']);
  });

  it('recreates a base chain whose priority changed, never the table', () => {
    const live = asLive(ruleset([baseChain('prerouting', -150)], web()));
    const desired = ruleset([baseChain('prerouting', -160)], web());
    const plan = diff(desired, live);
    assert.deepEqual(opNames(plan.ops), ['flushChain', 'deleteChain', 'addChain', 'addRule', 'addRule', 'addRule']);
    assert.ok(plan.ops.every((o) => o.op !== 'addRule' || o.before === undefined));
  });

  it('updates a base chain policy in place', () => {
    const live = asLive(ruleset([baseChain('prerouting', -150, 'accept')], web()));
    const plan = diff(ruleset([baseChain('prerouting', -150, 'drop')], web()), live);
    assert.deepEqual(opNames(plan.ops), ['addChain']);
  });

  it('compares anonymous sets by content, not by the name the kernel gave them', () => {
    const anon = (ports: number[], id?: number): NftSet => ({
      family: 'inet', table: 'flockguard', name: id === undefined ? '__set0' : '__set%d', id,
      flags: SetFlags.anonymous | SetFlags.constant, keyType: 13, keyLen: 2,
      elements: ports.map((p) => ({ key: Buffer.from([p >> 8, p & 255]) })),
    });
    const liveRule = { ...lookupRule('prerouting', '__set0'), handle: 5n };
    const live = { ...ruleset([baseChain()], [liveRule], [anon([80, 443])]) };
    const same = ruleset([baseChain()], [lookupRule('prerouting', '__set%d', 1)], [anon([443, 80], 1)]);
    assert.deepEqual(diff(same, live).ops, []);
    const changed = ruleset([baseChain()], [lookupRule('prerouting', '__set%d', 1)], [anon([80, 8443], 1)]);
    const plan = diff(changed, live);
    assert.deepEqual(opNames(plan.ops), ['addSet', 'replaceRule']);
    assert.equal((plan.ops[1] as Extract<PlanOp, { op: 'replaceRule' }>).rule.handle, 5n);
  });

  it('refuses to diff against live rules without handles', () => {
    const live = ruleset([baseChain()], web());
    assert.throws(() => diff(ruleset([baseChain()], []), live), { code: 'DIFF_NO_HANDLE' });
  });
});

describe('reconciler learnHandles', () => {
  it('gives inserted rules the handles of their NEWRULE events, in order, skipping replaced ones', () => {
    const view = ruleset([baseChain()], [portRule('prerouting', 22), portRule('prerouting', 80), portRule('prerouting', 80)]);
    view.rules.get('prerouting')![0] = { ...view.rules.get('prerouting')![0]!, handle: 4n };
    const events = [{ ...portRule('prerouting', 22), handle: 4n }, { ...portRule('prerouting', 80), handle: 7n }, { ...portRule('prerouting', 80), handle: 8n }];
    assert.equal(learnHandles(view, events), true);
    assert.deepEqual(view.rules.get('prerouting')!.map((r) => r.handle), [4n, 7n, 8n]);
  });

  it('says so when an event is missing', () => {
    const view = ruleset([baseChain()], [portRule('prerouting', 22), portRule('prerouting', 80)]);
    assert.equal(learnHandles(view, [{ ...portRule('prerouting', 22), handle: 3n }]), false);
  });
});

describe('reconciler element deltas at scale and with long keys', () => {
  it('finds a one-prefix change in a 150,000-range set, and survives one 300,000-element segment', () => {
    const ranges: Array<[string, string]> = [];
    for (let i = 0; i < 150_000; i++) {
      const x = 2 * i;
      const net = `${1 + (x >> 16)}.${(x >> 8) & 255}.${x & 255}`;
      ranges.push([`${net}.0`, `${net}.255`]);
    }
    const live = asLive(ruleset([baseChain()], [], [ipv4Set('big', intervalElements(ranges), true)]));
    const plus = [...ranges, ['203.0.113.0', '203.0.113.255'] as [string, string]];
    const plan = diff(ruleset([baseChain()], [], [ipv4Set('big', intervalElements(plus), true)]), live);
    assert.deepEqual(keysOf(plan.ops, 'addElements'), ['cb007100', 'cb007200/end']);
    assert.deepEqual(keysOf(plan.ops, 'deleteElements'), []);
    // Filling the gaps makes every range adjacent: one segment, resent whole.
    const filled: Array<[string, string]> = [[ranges[0]![0], ranges[ranges.length - 1]![1]]];
    const merged = diff(ruleset([baseChain()], [], [ipv4Set('big', intervalElements(filled), true)]), live);
    assert.equal(merged.summary.elementsDeleted, 300_000);
    assert.equal(merged.summary.elementsAdded, 2);
  });

  it('compares IPv6 keys (16 bytes) exactly, in interval and hash sets', () => {
    const v6 = (last: number): Buffer => Buffer.from([0x20, 0x01, 0x0d, 0xb8, ...new Array<number>(11).fill(0), last]);
    const set = (elements: SetElement[], interval: boolean): NftSet => ({ ...ipv4Set('v6', elements, interval), keyType: 8, keyLen: 16 });
    const liveHash = asLive(ruleset([baseChain()], [], [set([{ key: v6(1) }, { key: v6(2) }], false)]));
    const hashPlan = diff(ruleset([baseChain()], [], [set([{ key: v6(2) }, { key: v6(3) }], false)]), liveHash);
    assert.deepEqual(keysOf(hashPlan.ops, 'deleteElements'), [v6(1).toString('hex')]);
    assert.deepEqual(keysOf(hashPlan.ops, 'addElements'), [v6(3).toString('hex')]);
    const range = (lo: number, endKey: number): SetElement[] => [{ key: v6(lo) }, { key: v6(endKey), flags: ElementFlags.intervalEnd }];
    const liveIv = asLive(ruleset([baseChain()], [], [set([...range(0x10, 0x20), ...range(0x40, 0x50)], true)]));
    const ivPlan = diff(ruleset([baseChain()], [], [set([...range(0x10, 0x20), ...range(0x20, 0x30), ...range(0x40, 0x50)], true)]), liveIv);
    assert.deepEqual(keysOf(ivPlan.ops, 'deleteElements').sort(), [v6(0x10).toString('hex'), `${v6(0x20).toString('hex')}/end`]);
    assert.equal(keysOf(ivPlan.ops, 'addElements').length, 4);
  });
});
