import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PolicyIssue } from '../../src/policy/model';
import { formatIssue, parsePolicyFiles, parsePolicyText } from '../../src/policy/parse';
import { PositionFinder } from '../../src/policy/source';
import { hostEndpoint, networkSet, yaml } from './helpers';

const POLICY = yaml(`
  apiVersion: projectcalico.org/v3
  kind: GlobalNetworkPolicy
  metadata:
    name: allow-web
  spec:
    preDNAT: true
    applyOnForward: true
    ingress:
      - action: Allow
        protocol: TCP
        destination:
          ports:
            - 80
            - "70000"
        sorce:
          nets: [10.0.0.0/8]
`);

function where(issue: PolicyIssue): string {
  return `${issue.position?.line}:${issue.position?.column}`;
}

describe('policy issue positions', () => {
  it('gives file, line and column of the bad value, and formats the CLI line', () => {
    const { issues } = parsePolicyText(POLICY, { file: 'policy.yaml' });
    assert.equal(issues.length, 2);
    const port = issues.find((i) => i.code === 'POLICY_BAD_PORT');
    assert.ok(port);
    assert.deepEqual(port.position, { file: 'policy.yaml', line: 14, column: 13 });
    assert.equal(
      formatIssue(port),
      'policy.yaml:14:13: GlobalNetworkPolicy/allow-web: spec.ingress[0].destination.ports[1]: "70000" is not a port (1-65535 or "a:b" or a name) [POLICY_BAD_PORT]',
    );
  });

  it('points at the key of an unknown field', () => {
    const unknown = parsePolicyText(POLICY).issues.find((i) => i.code === 'POLICY_UNKNOWN_FIELD');
    assert.ok(unknown);
    assert.equal(unknown.field, 'spec.ingress[0].sorce');
    assert.equal(where(unknown), '15:7');
    assert.match(unknown.message, /did you mean "source"\?/);
    assert.equal(unknown.position?.file, undefined);
  });

  it('points at the closest existing parent when a required field is missing', () => {
    const text = 'apiVersion: projectcalico.org/v3\nkind: HostEndpoint\nmetadata:\n  name: h\nspec:\n  interfaceName: eth0\n';
    const [issue] = parsePolicyText(text).issues;
    assert.equal(issue.code, 'POLICY_MISSING_FIELD');
    assert.equal(where(issue), '6:3'); // the spec mapping starts at its first key
  });

  it('finds positions in the right document of a stream and the right item of a List', () => {
    const text = yaml(`
      apiVersion: projectcalico.org/v3
      kind: GlobalNetworkSet
      metadata: {name: ok}
      spec: {nets: [10.0.0.0/8]}
      ---
      # a comment-only document does not shift the count

      ---
      apiVersion: v1
      kind: List
      items:
        - apiVersion: projectcalico.org/v3
          kind: GlobalNetworkSet
          metadata: {name: a}
          spec:
            nets:
              - 10.0.0.0/8
              - 10.1
    `);
    const [issue] = parsePolicyText(text, { file: 'x.yaml' }).issues;
    assert.equal(issue.object, 'GlobalNetworkSet/a');
    assert.equal(issue.field, 'spec.nets[1]');
    assert.deepEqual(issue.position, { file: 'x.yaml', line: 18, column: 11 });
  });

  it('finds positions in JSON too', () => {
    const text = '{\n  "apiVersion": "projectcalico.org/v3",\n  "kind": "HostEndpoint",\n  "metadata": {"name": "h"},\n  "spec": {"node": "n", "expectedIPs": ["10.0.0.1", "010.0.0.2"]}\n}\n';
    const [issue] = parsePolicyText(text, { file: 'h.json' }).issues;
    assert.equal(issue.code, 'POLICY_BAD_IP');
    assert.deepEqual(issue.position, { file: 'h.json', line: 5, column: 53 });
  });

  it('reports YAML syntax errors with their positions and applies nothing from that text', () => {
    const text = 'apiVersion: projectcalico.org/v3\nkind: GlobalNetworkSet\nmetadata:\n  name: a\n  name: b\nspec: {nets: [10.0.0.0/8}\n';
    const result = parsePolicyText(text, { file: 'bad.yaml' });
    assert.deepEqual(result.resources, []);
    assert.ok(result.issues.length >= 2, `expected every syntax error, got ${result.issues.map(formatIssue).join('\n')}`);
    assert.ok(result.issues.every((i) => i.code === 'POLICY_SYNTAX' && i.position?.file === 'bad.yaml'));
    const lines = result.issues.map((i) => i.position?.line);
    assert.equal(lines[0], 5); // the repeated key
    assert.deepEqual([...new Set(lines)], [5, 6]); // then the unclosed flow sequence
    assert.match(result.issues[0].message, /^Map keys must be unique$/);
  });

  it('reports a JSON syntax error with a position', () => {
    const result = parsePolicyText('{"apiVersion": "projectcalico.org/v3",\n "items": [1, }', { file: 'bad.json' });
    assert.ok(result.issues.length >= 1);
    assert.ok(result.issues.every((i) => i.code === 'POLICY_SYNTAX' && i.position?.line === 2 && i.position.file === 'bad.json'));
  });

  describe('files and directories', () => {
    let dir: string;

    beforeEach(() => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'flockguard-policy-'));
    });

    afterEach(() => {
      fs.rmSync(dir, { recursive: true, force: true });
    });

    function write(rel: string, text: string): string {
      const full = path.join(dir, rel);
      fs.mkdirSync(path.dirname(full), { recursive: true });
      fs.writeFileSync(full, text);
      return full;
    }

    it('reads a directory recursively, in name order, only .yaml/.yml/.json', () => {
      write('b.yaml', JSON.stringify(hostEndpoint({}, 'b')));
      write('a.json', JSON.stringify(hostEndpoint({}, 'a')));
      write('sub/deeper/c.YML', JSON.stringify(hostEndpoint({}, 'c')));
      write('notes.txt', 'not a manifest');
      write('README.md', '# no');
      const result = parsePolicyFiles([dir]);
      assert.deepEqual(result.issues, []);
      assert.deepEqual(result.resources.map((r) => r.metadata.name), ['a', 'b', 'c']);
    });

    it('reads an explicitly named file whatever its extension', () => {
      const file = write('policy.txt', JSON.stringify(networkSet(['10.0.0.0/8'])));
      assert.equal(parsePolicyFiles([file]).resources.length, 1);
    });

    it('reports a path that does not exist', () => {
      const missing = path.join(dir, 'nope.yaml');
      const [issue] = parsePolicyFiles([missing]).issues;
      assert.equal(issue.code, 'POLICY_FILE');
      assert.equal(issue.position?.file, missing);
      assert.match(formatIssue(issue), /nope\.yaml: cannot read: ENOENT/);
    });

    it('finds a duplicate across files and says where the first one is', () => {
      const first = write('1.yaml', 'apiVersion: projectcalico.org/v3\nkind: HostEndpoint\nmetadata:\n  name: h\nspec: {node: n, interfaceName: eth0}\n');
      const second = write('2.yaml', '# again\napiVersion: projectcalico.org/v3\nkind: HostEndpoint\nmetadata: {name: h}\nspec: {node: n, interfaceName: eth1}\n');
      const result = parsePolicyFiles([first, second]);
      assert.equal(result.resources.length, 1);
      const [issue] = result.issues;
      assert.equal(issue.code, 'POLICY_DUPLICATE');
      assert.deepEqual(issue.position, { file: second, line: 4, column: 18 });
      assert.ok(issue.message.includes(`first at ${first}:4:9`), issue.message);
    });

    it('reads stdin for "-"', () => {
      const module = path.resolve(__dirname, '../../src/policy/parse.js');
      const script = `const p = require(${JSON.stringify(module)}); const r = p.parsePolicyFiles(['-']);` +
        `process.stdout.write(JSON.stringify({ names: r.resources.map((x) => x.metadata.name), issues: r.issues.map(p.formatIssue) }));`;
      const input = JSON.stringify(hostEndpoint({}, 'from-stdin')) + '\n---\n' + JSON.stringify(networkSet(['1.2.3']));
      const run = spawnSync(process.execPath, ['-e', script], { input, encoding: 'utf8' });
      assert.equal(run.status, 0, run.stderr);
      const out = JSON.parse(run.stdout) as { names: string[]; issues: string[] };
      assert.deepEqual(out.names, ['from-stdin']);
      assert.equal(out.issues.length, 1);
      assert.match(out.issues[0], /^<stdin>:3:\d+: GlobalNetworkSet\/s: spec\.nets\[0\]: "1\.2\.3" is not a CIDR/);
    });
  });
});

describe('JSON position scanner', () => {
  // The fast scanner must agree with the `yaml` package, which parses JSON as YAML flow style.
  const doc = {
    apiVersion: 'projectcalico.org/v3',
    kind: 'GlobalNetworkPolicy',
    metadata: { name: 'p', labels: { 'k8s.io/a"b': 'x', 'e\\f': 'y' } },
    spec: { ingress: [{ action: 'Allow', source: { nets: ['10.0.0.0/8', '1.2.3'] } }, {}, { destination: { ports: [[1], { a: '}' }, 80] } }] },
  };
  const paths: Array<[Array<string | number>, boolean]> = [
    [[], false],
    [['kind'], false],
    [['kind'], true],
    [['metadata', 'labels', 'k8s.io/a"b'], true],
    [['metadata', 'labels', 'e\\f'], false],
    [['spec', 'ingress', 0, 'source', 'nets', 1], false],
    [['spec', 'ingress', 1], false],
    [['spec', 'ingress', 2, 'destination', 'ports', 2], false],
    [['spec', 'ingress', 2, 'destination', 'ports', 9], false], // runs out: the list itself
    [['spec', 'missing', 'deeper'], true], // runs out: spec
    [['spec', 'ingress', 'notanindex'], false],
  ];
  for (const [label, text] of [
    ['pretty', JSON.stringify(doc, null, 2)],
    ['compact', JSON.stringify(doc)],
    ['odd spacing', JSON.stringify(doc, null, '\t').replace(/: /g, ' :\r\n  ')],
  ]) {
    it(`agrees with the yaml package on ${label} JSON`, () => {
      const fast = new PositionFinder(text, true);
      const slow = new PositionFinder(text, false);
      for (const [p, atKey] of paths) {
        const found = fast.locate(0, p, atKey);
        assert.ok(found);
        assert.deepEqual(found, slow.locate(0, p, atKey), `${JSON.stringify(p)} atKey=${atKey}`);
      }
    });
  }
});
