import assert from 'node:assert/strict';
import { canonicalJson, diffResources } from '../../src/store';
import { networkSet, policy } from './helpers';

describe('canonicalJson()', () => {
  it('gives the same text whatever order the keys were written in, at any depth', () => {
    assert.equal(canonicalJson({ b: 1, a: { d: [1, { y: 2, x: 1 }], c: 'z' } }), canonicalJson({ a: { c: 'z', d: [1, { x: 1, y: 2 }] }, b: 1 }));
    assert.equal(canonicalJson({ b: 1, a: [2, 1] }), '{"a":[2,1],"b":1}');
  });

  it('leaves out undefined members, as JSON.stringify does', () => {
    assert.equal(canonicalJson({ a: undefined, b: null }), '{"b":null}');
    assert.equal(canonicalJson([undefined]), '[null]');
  });

  it('keeps array order: reordered rules are a different policy', () => {
    assert.notEqual(canonicalJson(['10.0.0.0/8', '192.168.0.0/16']), canonicalJson(['192.168.0.0/16', '10.0.0.0/8']));
  });

  it('escapes keys and strings like JSON, so the text parses back to the value', () => {
    const value = { 'we"ird\n': ['ü', '\u2028'], n: -1.5 };
    assert.deepEqual(JSON.parse(canonicalJson(value)), value);
  });
});

describe('diffResources()', () => {
  it('sorts resources into created, configured, unchanged and deleted by kind/name', () => {
    const from = [policy('keep'), policy('change', 443), networkSet('gone', ['10.0.0.0/8'])];
    const to = [policy('change', 8443), policy('keep'), networkSet('new', ['10.0.0.0/8'])];
    assert.deepEqual(diffResources(from, to), {
      created: ['GlobalNetworkSet/new'],
      configured: ['GlobalNetworkPolicy/change'],
      unchanged: ['GlobalNetworkPolicy/keep'],
      deleted: ['GlobalNetworkSet/gone'],
    });
  });

  it('treats the same content written in another key order as unchanged', () => {
    const a = policy('p');
    const b = JSON.parse(JSON.stringify({ spec: a.spec, metadata: a.metadata, kind: a.kind, apiVersion: a.apiVersion }));
    assert.deepEqual(diffResources([a], [b]).unchanged, ['GlobalNetworkPolicy/p']);
  });

  it('keys by kind and name together: a policy and a set of one name are two resources', () => {
    const d = diffResources([policy('x')], [networkSet('x', [])]);
    assert.deepEqual(d.created, ['GlobalNetworkSet/x']);
    assert.deepEqual(d.deleted, ['GlobalNetworkPolicy/x']);
  });

  it('sees a one-prefix change in a large set as configured', () => {
    const nets = Array.from({ length: 5000 }, (_, i) => `10.${i >> 8}.${i & 255}.0/24`);
    const changed = [...nets];
    changed[4321] = '192.0.2.0/24';
    assert.deepEqual(diffResources([networkSet('big', nets)], [networkSet('big', changed)]).configured, ['GlobalNetworkSet/big']);
  });
});
