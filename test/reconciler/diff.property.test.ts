import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Rule } from '../../src/nftables/model';
import { diff } from '../../src/reconciler/diff';
import { anonResolver, ruleKey } from '../../src/reconciler/rule-key';
import { asLive, baseChain, ip, ipv4Set, jumpRule, lookupRule, portRule, regularChain, ruleset } from './fixtures';
import { replay } from './simulate';

// A random table: a base chain whose rules are ports, jumps to regular chains and set lookups.
const ruleSpec = fc.oneof(
  fc.integer({ min: 1, max: 12 }).map((p) => ({ kind: 'port' as const, p })),
  fc.constantFrom('c1' as const, 'c2' as const).map((c) => ({ kind: 'jump' as const, c })),
  fc.constantFrom('s1', 's2').map((s) => ({ kind: 'lookup' as const, s })),
);
const tableSpec = fc.record({
  base: fc.array(ruleSpec, { maxLength: 12 }),
  c1: fc.option(fc.array(fc.integer({ min: 1, max: 6 }), { maxLength: 5 })),
  c2: fc.option(fc.array(fc.integer({ min: 1, max: 6 }), { maxLength: 5 })),
  s1Interval: fc.boolean(),
  priority: fc.constantFrom(-150, -160),
});
type Spec = typeof tableSpec extends fc.Arbitrary<infer T> ? T : never;

function build(spec: Spec) {
  const chains = [baseChain('prerouting', spec.priority)];
  const rules: Rule[] = [];
  for (const name of ['c1', 'c2'] as const) {
    const ports = spec[name];
    if (!ports) continue;
    chains.push(regularChain(name));
    rules.push(...ports.map((p) => portRule(name, p)));
  }
  const sets = [ipv4Set('s1', [{ key: ip('1.1.1.1') }], false), ipv4Set('s2', [{ key: ip('2.2.2.2') }], false)];
  if (spec.s1Interval) sets[0] = ipv4Set('s1', [{ key: ip('1.1.1.0') }, { key: ip('1.1.2.0'), flags: 1 }], true);
  for (const r of spec.base) {
    if (r.kind === 'port') rules.push(portRule('prerouting', r.p));
    else if (r.kind === 'lookup') rules.push(lookupRule('prerouting', r.s));
    else if (spec[r.c]) rules.push(jumpRule('prerouting', r.c));
  }
  return ruleset(chains, rules, sets);
}

describe('reconciler diff (property: replaying the plan reaches the desired table)', () => {
  it('every op is valid in order, the result equals desired, and unchanged rules keep their handles', () => {
    fc.assert(fc.property(tableSpec, tableSpec, (from, to) => {
      const live = asLive(build(from));
      const desired = build(to);
      const plan = diff(desired, live);
      const st = replay(live, plan);
      const res = anonResolver([]);
      for (const c of desired.chains) {
        assert.deepEqual(st.chains.get(c.name)!.map((r) => ruleKey(r, res)), desired.rules.get(c.name)!.map((r) => ruleKey(r, res)));
      }
      assert.deepEqual([...st.chains.keys()].sort(), desired.chains.map((c) => c.name).sort());
      assert.deepEqual([...st.sets.keys()].sort(), desired.sets.map((s) => s.name).sort());
      // Diffing the result (with its handles, as a dump would show it) finds nothing left to do.
      const after = { ...desired, rules: new Map([...st.chains].map(([name, rules]) => [name, rules])) };
      assert.deepEqual(diff(desired, after).ops, []);
      // A chain whose rules did not change gets no rule operation at all.
      for (const c of desired.chains) {
        const before = live.rules.get(c.name)?.map((r) => ruleKey(r, res));
        const sameChain = live.chains.some((l) => l.name === c.name && JSON.stringify(l.base) === JSON.stringify(c.base));
        if (!sameChain || JSON.stringify(before) !== JSON.stringify(desired.rules.get(c.name)!.map((r) => ruleKey(r, res)))) continue;
        if (c.name === 'prerouting' && from.s1Interval !== to.s1Interval) continue;
        assert.ok(!plan.ops.some((o) => (o.op === 'addRule' || o.op === 'replaceRule' || o.op === 'deleteRule') && o.rule.chain === c.name));
      }
    }), { numRuns: 400 });
  });
});
