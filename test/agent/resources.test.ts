import assert from 'node:assert/strict';
import { changeNetset, mergeApply, objectResults, removeRefs } from '../../src/agent/resources';
import { GlobalNetworkSet, Resource } from '../../src/policy/model';

const netset = (name: string, nets: string[]): GlobalNetworkSet =>
  ({ apiVersion: 'projectcalico.org/v3', kind: 'GlobalNetworkSet', metadata: { name }, spec: { nets } });

describe('agent resource changes', () => {
  it('apply replaces same-named resources in place and appends new ones', () => {
    const next = mergeApply([netset('a', ['10.0.0.0/8']), netset('b', [])], [netset('c', []), netset('a', ['11.0.0.0/8'])]);
    assert.deepEqual(next.map((r) => [r.metadata.name, (r as GlobalNetworkSet).spec.nets]), [['a', ['11.0.0.0/8']], ['b', []], ['c', []]]);
  });

  it('apply refuses a resource defined twice', () => {
    assert.throws(() => mergeApply([], [netset('a', []), netset('a', ['1.0.0.0/8'])]), { code: 'DUPLICATE_RESOURCE' });
  });

  it('reports created, configured and unchanged objects for what was touched', () => {
    const before: Resource[] = [netset('a', ['10.0.0.0/8']), netset('b', [])];
    const after = mergeApply(before, [netset('a', ['10.0.0.0/8']), netset('b', ['1.1.1.1/32']), netset('c', [])]);
    assert.deepEqual(objectResults(before, after).map((o) => `${o.name} ${o.action}`).sort(), ['a unchanged', 'b configured', 'c created']);
  });

  it('delete names what is missing and changes nothing unless told to skip it', () => {
    const current = [netset('a', [])];
    assert.throws(() => removeRefs(current, [{ kind: 'GlobalNetworkSet', name: 'zz' }], false), { code: 'NOT_FOUND', message: /GlobalNetworkSet\/zz/ });
    const r = removeRefs(current, [{ kind: 'globalnetworkset', name: 'a' }, { kind: 'GlobalNetworkSet', name: 'zz' }], true);
    assert.deepEqual(r.next, []);
    assert.deepEqual(r.deleted, ['GlobalNetworkSet/a']);
  });

  it('netset add appends only new nets (canonical form), remove drops them', () => {
    const current = [netset('blocked', ['10.0.0.0/8'])];
    assert.equal(changeNetset(current, 'blocked', ['10.0.0.0/8'], 'add').action, 'unchanged');
    const add = changeNetset(current, 'blocked', ['10.0.0.0/8', '192.168.1.7', '172.16.0.0/12'], 'add');
    assert.equal(add.action, 'configured');
    const added = add.next;
    assert.deepEqual((added[0] as GlobalNetworkSet).spec.nets, ['10.0.0.0/8', '192.168.1.7/32', '172.16.0.0/12']);
    const removed = changeNetset(added, 'blocked', ['192.168.1.7/32', '8.8.8.8/32'], 'remove');
    assert.deepEqual((removed.next[0] as GlobalNetworkSet).spec.nets, ['10.0.0.0/8', '172.16.0.0/12']);
    assert.deepEqual(removed.warnings, ['GlobalNetworkSet/blocked did not contain 8.8.8.8/32']);
  });

  it('netset add creates a missing set; remove from a missing one is NOT_FOUND', () => {
    assert.equal(changeNetset([], 'new', ['1.2.3.0/24'], 'add').next[0]!.metadata.name, 'new');
    assert.throws(() => changeNetset([], 'new', ['1.2.3.0/24'], 'remove'), { code: 'NOT_FOUND' });
  });

  it('netset refuses a bad CIDR naming the set and the entry, and changes nothing', () => {
    assert.throws(() => changeNetset([netset('s', [])], 's', ['10.0.0.0/8', '010.1.1.1/32'], 'add'), { code: 'BAD_CIDR', message: /GlobalNetworkSet\/s: cidrs\[1\]/ });
  });
});
