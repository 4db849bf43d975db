// A model of the kernel's rule lists, sets and references, enough to replay a plan and check the
// two things the differ promises: every op is valid when the kernel prepares it (references exist,
// nothing referenced is deleted, K-api nf_tables_delchain/delset), and the end state is the desired one.
import assert from 'node:assert/strict';
import { NftSet, Rule, Ruleset } from '../../src/nftables/model';
import { Plan } from '../../src/reconciler/plan';
import { referencedChains, referencedSets, anonResolver } from '../../src/reconciler/rule-key';

export interface SimState {
  chains: Map<string, Rule[]>;
  sets: Map<string, NftSet>;
  nextHandle: bigint;
}

export function stateOf(rs: Ruleset): SimState {
  let max = 0n;
  const chains = new Map<string, Rule[]>();
  for (const c of rs.chains) {
    const rules = (rs.rules.get(c.name) ?? []).map((r) => ({ ...r }));
    for (const r of rules) if (r.handle !== undefined && r.handle > max) max = r.handle;
    chains.set(c.name, rules);
  }
  return { chains, sets: new Map(rs.sets.map((s) => [s.name, s])), nextHandle: max + 1n };
}

function users(st: SimState, pred: (r: Rule) => boolean): Rule[] {
  return [...st.chains.values()].flat().filter(pred);
}

export function replay(start: Ruleset, plan: Plan): SimState {
  const st = stateOf(start);
  const noAnon = anonResolver([]);
  const checkRefs = (r: Rule): void => {
    for (const s of referencedSets(r, noAnon)) assert.ok(st.sets.has(s), `rule uses missing set ${s}`);
    for (const c of referencedChains(r)) assert.ok(st.chains.has(c), `rule jumps to missing chain ${c}`);
  };
  const chainOf = (name: string): Rule[] => {
    const rules = st.chains.get(name);
    assert.ok(rules, `no chain ${name}`);
    return rules;
  };
  const at = (rules: Rule[], handle: bigint): number => {
    const i = rules.findIndex((r) => r.handle === handle);
    assert.notEqual(i, -1, `no rule with handle ${handle}`);
    return i;
  };
  for (const op of plan.ops) {
    switch (op.op) {
      case 'addTable': break;
      case 'addChain': if (!st.chains.has(op.chain.name)) st.chains.set(op.chain.name, []); break;
      case 'flushChain': chainOf(op.chain.name).length = 0; break;
      case 'deleteChain':
        assert.equal(users(st, (r) => referencedChains(r).includes(op.chain.name)).length, 0, `chain ${op.chain.name} still referenced`);
        st.chains.delete(op.chain.name);
        break;
      case 'addSet': st.sets.set(op.set.name, op.set); break;
      case 'deleteSet':
        assert.equal(users(st, (r) => referencedSets(r, noAnon).includes(op.set.name)).length, 0, `set ${op.set.name} still referenced`);
        st.sets.delete(op.set.name);
        break;
      case 'addElements': case 'deleteElements': assert.ok(st.sets.has(op.set.name)); break;
      case 'addRule': {
        checkRefs(op.rule);
        const rules = chainOf(op.rule.chain);
        const r = { ...op.rule, handle: st.nextHandle++ };
        if (op.before === undefined) rules.push(r);
        else rules.splice(at(rules, op.before), 0, r);
        break;
      }
      case 'replaceRule': {
        checkRefs(op.rule);
        const rules = chainOf(op.rule.chain);
        rules[at(rules, op.rule.handle)] = { ...op.rule };
        break;
      }
      case 'deleteRule': {
        const rules = chainOf(op.rule.chain);
        rules.splice(at(rules, op.rule.handle), 1);
        break;
      }
    }
  }
  return st;
}
