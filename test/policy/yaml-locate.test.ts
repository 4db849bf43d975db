import assert from 'node:assert/strict';
import jsYaml from 'js-yaml';
import { PositionFinder } from '../../src/policy/source';
import { BlockYaml } from '../../src/policy/yaml-locate';
import { yaml } from './helpers';

type Path = Array<string | number>;

/** Every path in a decoded document, plus a missing child under each collection. */
function allPaths(value: unknown, prefix: Path = []): Path[] {
  const out: Path[] = [prefix];
  if (Array.isArray(value)) {
    value.forEach((v, i) => out.push(...allPaths(v, [...prefix, i])));
    out.push([...prefix, value.length + 3]);
  } else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) out.push(...allPaths(v, [...prefix, k]));
    out.push([...prefix, 'no-such-key', 'deeper']);
  }
  return out;
}

/** Compares the indentation scanner with the yaml package on every path of every document. */
function compare(text: string, expectHandled: boolean): void {
  const docs = jsYaml.loadAll(text, undefined, { schema: jsYaml.CORE_SCHEMA }).filter((d) => d !== null && d !== undefined);
  const fast = new BlockYaml(text);
  const viaFast = new PositionFinder(text, false, 0);
  const viaYaml = new PositionFinder(text, false, Infinity);
  let handled = 0;
  docs.forEach((doc, index) => {
    for (const path of allPaths(doc)) {
      for (const atKey of [false, true]) {
        const offset = fast.locate(index, path, atKey);
        if (offset !== undefined) handled++;
        else if (expectHandled) assert.fail(`scanner gave up on document ${index} ${JSON.stringify(path)}`);
        assert.deepEqual(viaFast.locate(index, path, atKey), viaYaml.locate(index, path, atKey), `document ${index} ${JSON.stringify(path)} atKey=${atKey}`);
      }
    }
  });
  if (expectHandled) assert.ok(handled > 0);
}

const BLOCK = yaml(`
  # leading comment
  apiVersion: projectcalico.org/v3
  kind: GlobalNetworkPolicy
  metadata:
    name: edge.allow-web   # trailing comment
    labels: {team: net, "k8s.io/x": 'it''s', empty: ""}
    annotations:
      "quoted\\"key": v
      'single''key': w
  spec:
    selector: "has(a) && b == 'c'"
    ingress:
      - action: Allow
        protocol: TCP

        source:
          nets: [10.1.2.3/8, "2001:db8::/32", 192.168.7.7]
          selector: "!has(blocked)"
        destination:
          ports:
          - 80
          - "8000:9000"
          # a comment between items
          - http-alt
      - action: Deny
      -
        action: Log
        destination: {ports: [1, 2, [3, {deep: x}]], nets: []}
      - - nested
        - [seq]
    url: http://example.com:8080/x
  ---
  # only a comment
  ---
  apiVersion: v1
  kind: List
  items:
  - kind: GlobalNetworkSet
    metadata: {name: a}
    spec:
      nets:
        - 10.0.0.0/8
        - 10.1
  - kind: HostEndpoint
    spec: {node: n, expectedIPs: ["1.2.3.4"]}
  ...
  ---
  last: document
  80: numeric key
`);

describe('block YAML position scanner', () => {
  it('agrees with the yaml package on every path of block-style documents', () => {
    compare(BLOCK, true);
  });

  it('agrees on CRLF line ends', () => {
    compare(BLOCK.replace(/\n/g, '\r\n'), true);
  });

  it('finds an item deep in a long sequence', () => {
    const nets = Array.from({ length: 5000 }, (_, i) => `    - 10.${i >> 8}.${i & 255}.0/24`).join('\n');
    const text = `kind: GlobalNetworkSet\nspec:\n  nets:\n${nets}\n  other: 1\n`;
    assert.deepEqual(new PositionFinder(text, false, 0).locate(0, ['spec', 'nets', 4321]), { line: 4325, column: 7 });
    assert.deepEqual(new PositionFinder(text, false, 0).locate(0, ['spec', 'other'], true), { line: 5004, column: 3 });
    compare(text, true);
  });

  describe('gives way to the yaml package outside its subset', () => {
    const cases: Array<[string, string]> = [
      ['anchors and aliases', 'a: &x {b: 1}\nc: *x\nd:\n  - &y 2\n  - *y\n'],
      ['block scalars', 'a: |\n  text\n  more: text\nb: >-\n  folded\nc: 1\n'],
      ['tags', 'a: !!str 80\nb: [!!int "1"]\n'],
      ['explicit keys', '? a\n: 1\n? [b]\n: 2\n'],
      ['empty values', 'a:\nb: 1\nc:\n  -\n  - x\n'],
      ['multi-line flow', 'a: [1,\n  2]\nb: {c: 1,\n  d: 2}\n'],
      ['a flow root', '{a: 1, b: [2]}\n'],
      ['an indented root', '  a: 1\n  b: 2\n'],
      ['a lone scalar document', '--- ~\n---\na: 1\n'],
      ['directives', '%YAML 1.2\n---\na: 1\n'],
      ['a pair inside a flow sequence', 'a: [b: 1, c]\n'],
      ['an IPv6 net ending in :: inside a flow sequence', 'nets: ["fe80::/10", fe80::]\n'],
    ];
    for (const [title, text] of cases) {
      it(title, () => compare(text, false));
    }
  });
});
