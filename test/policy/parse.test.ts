import assert from 'node:assert/strict';
import { Resource } from '../../src/policy/model';
import { parsePolicyText } from '../../src/policy/parse';
import { hostEndpoint, issueSummary, networkSet, parseDocs, policy, yaml } from './helpers';

// Every field flockguard accepts, written the loose ways Calico allows (quoted numbers, host bits,
// upper-case IPv6, "a:a" ranges, a bare address), to check what comes out normalised.
const EVERYTHING = yaml(`
  apiVersion: projectcalico.org/v3
  kind: Tier
  metadata:
    name: edge
    resourceVersion: "123"
    creationTimestamp: "2026-01-01T00:00:00Z"
  spec:
    order: 100
    defaultAction: Pass
  ---
  apiVersion: projectcalico.org/v3
  kind: GlobalNetworkPolicy
  metadata:
    name: edge.allow-web
    labels:
      team: net
    annotations:
      example.com/owner: ops
  spec:
    tier: edge
    order: 10.5
    selector: "has(host-endpoint) && role in {'edge'}"
    preDNAT: true
    applyOnForward: true
    doNotTrack: false
    ingress:
      - action: Allow
        protocol: TCP
        ipVersion: 4
        metadata:
          annotations:
            why: web
        source:
          nets: [10.1.2.3/8, 192.168.7.7]
          notNets: [10.9.0.0/16]
          selector: "!has(blocked)"
          notSelector: "kind == 'scanner'"
        destination:
          ports: [80, "443", "8000:9000", "22:22", http-alt]
          notPorts: ["8080"]
      - action: Deny
        protocol: "17"
        notProtocol: SCTP
      - action: Allow
        protocol: ICMPv6
        icmp: {type: 128, code: 0}
        notICMP: {type: 1}
        destination:
          nets: ["2001:DB8:0:0::1/64"]
      - action: Log
      - action: Pass
        protocol: UDPLite
    egress: []
  ---
  apiVersion: projectcalico.org/v3
  kind: HostEndpoint
  metadata:
    name: node1-eth0
    labels:
      host-endpoint: ""
      role: edge
  spec:
    node: node1
    interfaceName: eth0
    expectedIPs: ["192.0.2.10", "2001:DB8::10", "192.0.2.10"]
    ports:
      - {name: http-alt, protocol: TCP, port: 8080}
      - {name: dns, protocol: UDP, port: 53}
      - {name: sig, protocol: SCTP, port: 3868}
    profiles: [projectcalico-default-allow]
  ---
  apiVersion: projectcalico.org/v3
  kind: GlobalNetworkSet
  metadata:
    name: blocked-nets
    labels: {blocked: "true"}
  spec:
    nets: [198.51.100.0/24, 203.0.113.9, "2001:db8:ffff::1/48"]
  ---
  apiVersion: projectcalico.org/v3
  kind: HostEndpoint
  metadata: {name: all-interfaces}
  spec: {node: node1, interfaceName: "*"}
`);

const EXPECTED: Resource[] = [
  {
    apiVersion: 'projectcalico.org/v3',
    kind: 'Tier',
    metadata: { name: 'edge' },
    spec: { order: 100, defaultAction: 'Pass' },
  },
  {
    apiVersion: 'projectcalico.org/v3',
    kind: 'GlobalNetworkPolicy',
    metadata: { name: 'edge.allow-web', labels: { team: 'net' }, annotations: { 'example.com/owner': 'ops' } },
    spec: {
      tier: 'edge',
      order: 10.5,
      selector: "has(host-endpoint) && role in {'edge'}",
      types: ['Ingress'],
      ingress: [
        {
          action: 'Allow',
          protocol: 'TCP',
          ipVersion: 4,
          source: {
            nets: ['10.0.0.0/8', '192.168.7.7/32'],
            notNets: ['10.9.0.0/16'],
            selector: '!has(blocked)',
            notSelector: "kind == 'scanner'",
          },
          destination: { ports: [80, 443, '8000:9000', 22, 'http-alt'], notPorts: [8080] },
          metadata: { annotations: { why: 'web' } },
        },
        { action: 'Deny', protocol: 17, notProtocol: 'SCTP' },
        {
          action: 'Allow',
          protocol: 'ICMPv6',
          icmp: { type: 128, code: 0 },
          notICMP: { type: 1 },
          destination: { nets: ['2001:db8::/64'] },
        },
        { action: 'Log' },
        { action: 'Pass', protocol: 'UDPLite' },
      ],
      preDNAT: true,
      applyOnForward: true,
    },
  },
  {
    apiVersion: 'projectcalico.org/v3',
    kind: 'HostEndpoint',
    metadata: { name: 'node1-eth0', labels: { 'host-endpoint': '', role: 'edge' } },
    spec: {
      node: 'node1',
      interfaceName: 'eth0',
      expectedIPs: ['192.0.2.10', '2001:db8::10'],
      ports: [
        { name: 'http-alt', protocol: 'TCP', port: 8080 },
        { name: 'dns', protocol: 'UDP', port: 53 },
        { name: 'sig', protocol: 'SCTP', port: 3868 },
      ],
      profiles: ['projectcalico-default-allow'],
    },
  },
  {
    apiVersion: 'projectcalico.org/v3',
    kind: 'GlobalNetworkSet',
    metadata: { name: 'blocked-nets', labels: { blocked: 'true' } },
    spec: { nets: ['198.51.100.0/24', '203.0.113.9/32', '2001:db8:ffff::/48'] },
  },
  {
    apiVersion: 'projectcalico.org/v3',
    kind: 'HostEndpoint',
    metadata: { name: 'all-interfaces' },
    spec: { node: 'node1', interfaceName: '*' },
  },
];

describe('policy parsing', () => {
  it('accepts every supported field and returns resources normalised', () => {
    const result = parsePolicyText(EVERYTHING, { file: 'all.yaml' });
    assert.deepEqual(result.issues, []);
    assert.deepEqual(result.skipped, []);
    assert.deepEqual(result.resources, EXPECTED);
  });

  it('gives the same resources for the same manifest written as JSON, as a List, and re-parsed', () => {
    const asJson = JSON.stringify({ apiVersion: 'v1', kind: 'List', items: EXPECTED });
    assert.deepEqual(parsePolicyText(asJson).resources, EXPECTED);
    const reparsed = parsePolicyText(EXPECTED.map((r) => JSON.stringify(r)).join('\n---\n'));
    assert.deepEqual(reparsed.resources, EXPECTED);
  });

  it('fills the policy defaults Calico applies: tier, types from the rules present', () => {
    const [p] = parseDocs(policy({ ingress: [{ action: 'Deny' }] })).resources;
    assert.equal(p.kind, 'GlobalNetworkPolicy');
    assert.deepEqual(p.spec, { tier: 'default', types: ['Ingress'], ingress: [{ action: 'Deny' }], preDNAT: true, applyOnForward: true });
    const [empty] = parseDocs(policy({ types: [] })).resources;
    assert.deepEqual(empty.kind === 'GlobalNetworkPolicy' && empty.spec.types, ['Ingress']);
    const [tier] = parsePolicyText('{"apiVersion":"projectcalico.org/v3","kind":"Tier","metadata":{"name":"t"}}').resources;
    assert.deepEqual(tier.spec, { defaultAction: 'Deny' });
  });

  it('reads a --- stream, skipping empty documents and comments', () => {
    const text = '---\n# nothing here\n---\n' + JSON.stringify(hostEndpoint()) + '\n---\n---\n' + JSON.stringify(networkSet(['10.0.0.0/8'])) + '\n...\n';
    const result = parsePolicyText(text);
    assert.deepEqual(issueSummary(result.issues), []);
    assert.deepEqual(result.resources.map((r) => `${r.kind}/${r.metadata.name}`), ['HostEndpoint/h', 'GlobalNetworkSet/s']);
  });

  it('reads kind: List and calicoctl-style <Kind>List with items lacking kind and apiVersion', () => {
    const list = yaml(`
      apiVersion: projectcalico.org/v3
      kind: GlobalNetworkSetList
      metadata: {resourceVersion: "7"}
      items:
        - metadata: {name: a}
          spec: {nets: [10.0.0.0/8]}
        - metadata: {name: b}
          spec: {nets: ["::1"]}
    `);
    const result = parsePolicyText(list);
    assert.deepEqual(result.issues, []);
    assert.deepEqual(result.resources.map((r) => [r.kind, r.metadata.name]), [['GlobalNetworkSet', 'a'], ['GlobalNetworkSet', 'b']]);
  });

  it('names List items by kind/name, or by document and item index when the name is missing', () => {
    const result = parseDocs(policy(), { ...hostEndpoint(), metadata: {} }, networkSet(['x']));
    assert.deepEqual(
      result.issues.map((i) => [i.object, i.field, i.code]),
      [
        ['document 1 items[1]', 'metadata.name', 'POLICY_MISSING_FIELD'],
        ['GlobalNetworkSet/s', 'spec.nets[0]', 'POLICY_BAD_CIDR'],
      ],
    );
    assert.deepEqual(result.resources.map((r) => r.metadata.name), ['p']);
  });

  it('refuses an unknown List field and items that are not a list', () => {
    const result = parsePolicyText(JSON.stringify({ apiVersion: 'v1', kind: 'List', items: {}, extra: 1 }));
    assert.deepEqual(issueSummary(result.issues), [['POLICY_UNKNOWN_FIELD', 'extra'], ['POLICY_BAD_TYPE', 'items']]);
  });

  describe('unsupported resources', () => {
    const docs = [
      policy({ preDNAT: false, applyOnForward: false }, 'normal'),
      { apiVersion: 'projectcalico.org/v3', kind: 'NetworkPolicy', metadata: { name: 'np', namespace: 'x' }, spec: {} },
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cm' } },
      { ...hostEndpoint({}, 'old'), apiVersion: 'projectcalico.org/v2' },
      { apiVersion: 'projectcalico.org/v3', kind: 'FooList', items: [] },
      hostEndpoint({}, 'kept'),
    ];

    it('refuses them by default, saying why', () => {
      const result = parseDocs(...docs);
      assert.deepEqual(
        result.issues.map((i) => [i.object, i.code]),
        [
          ['GlobalNetworkPolicy/normal', 'POLICY_NOT_PREDNAT'],
          ['NetworkPolicy/np', 'POLICY_UNSUPPORTED_KIND'],
          ['ConfigMap/cm', 'POLICY_BAD_API_VERSION'],
          ['HostEndpoint/old', 'POLICY_BAD_API_VERSION'],
          ['document 1 items[4]', 'POLICY_UNSUPPORTED_KIND'],
        ],
      );
      assert.match(result.issues[0].message, /flockguard enforces only pre-DNAT policy/);
      assert.match(result.issues[3].message, /"projectcalico.org\/v2" is not supported/);
    });

    it('reports them in skipped with skipUnsupported, and keeps the rest', () => {
      const text = JSON.stringify({ apiVersion: 'v1', kind: 'List', items: docs });
      const result = parsePolicyText(text, { skipUnsupported: true });
      assert.deepEqual(result.issues, []);
      assert.deepEqual(result.skipped.map((i) => [i.object, i.code]), [
        ['GlobalNetworkPolicy/normal', 'POLICY_NOT_PREDNAT'],
        ['NetworkPolicy/np', 'POLICY_UNSUPPORTED_KIND'],
        ['ConfigMap/cm', 'POLICY_BAD_API_VERSION'],
        ['HostEndpoint/old', 'POLICY_BAD_API_VERSION'],
        ['document 1 items[4]', 'POLICY_UNSUPPORTED_KIND'],
      ]);
      assert.deepEqual(result.resources.map((r) => r.metadata.name), ['kept']);
    });

    it('still refuses broken pre-DNAT resources with skipUnsupported', () => {
      const text = JSON.stringify(policy({ applyOnForward: false }));
      const result = parsePolicyText(text, { skipUnsupported: true });
      assert.deepEqual(issueSummary(result.issues), [['POLICY_PREDNAT_APPLY_ON_FORWARD', 'spec.applyOnForward']]);
    });

    it('without skipUnsupported, validates a non-pre-DNAT policy fully so all its errors show at once', () => {
      const result = parseDocs(policy({ preDNAT: false, ingress: [{ action: 'Alow' }] }));
      assert.deepEqual(issueSummary(result.issues), [['POLICY_NOT_PREDNAT', 'spec.preDNAT'], ['POLICY_BAD_ACTION', 'spec.ingress[0].action']]);
    });
  });

  it('refuses the same kind/name twice in one push, keeping the first', () => {
    const result = parseDocs(hostEndpoint({ node: 'a' }, 'h'), hostEndpoint({ node: 'b' }, 'h'), networkSet([], 'h'));
    assert.deepEqual(issueSummary(result.issues), [['POLICY_DUPLICATE', 'metadata.name']]);
    assert.equal(result.issues[0].object, 'HostEndpoint/h');
    assert.deepEqual(result.resources.map((r) => r.kind), ['HostEndpoint', 'GlobalNetworkSet']);
  });

  it('reports all errors of all documents, not just the first', () => {
    const result = parseDocs(
      policy({ ingress: [{ action: 'Allow', protocol: 'TCP', destination: { ports: [0, 70000, 'x y'] } }, { action: 'Nope' }], extra: 1 }),
      hostEndpoint({ node: '', interfaceName: 'far-too-long-name0', expectedIPs: ['1.2.3'] }),
    );
    assert.deepEqual(issueSummary(result.issues), [
      ['POLICY_UNKNOWN_FIELD', 'spec.extra'],
      ['POLICY_BAD_PORT', 'spec.ingress[0].destination.ports[0]'],
      ['POLICY_BAD_PORT', 'spec.ingress[0].destination.ports[1]'],
      ['POLICY_BAD_PORT', 'spec.ingress[0].destination.ports[2]'],
      ['POLICY_BAD_ACTION', 'spec.ingress[1].action'],
      ['POLICY_MISSING_FIELD', 'spec.node'],
      ['POLICY_BAD_INTERFACE', 'spec.interfaceName'],
      ['POLICY_BAD_IP', 'spec.expectedIPs[0]'],
    ]);
    assert.deepEqual(result.resources, []);
  });

  it('lists the first 1000 issues of a document with their positions and counts the rest', () => {
    const nets = Array.from({ length: 1500 }, (_, i) => `010.0.${i >> 8}.${i & 255}`);
    const asYaml = `kind: GlobalNetworkSet\napiVersion: projectcalico.org/v3\nmetadata: {name: s}\nspec:\n  nets:\n${nets.map((n) => `  - ${n}\n`).join('')}`;
    const asJson = JSON.stringify(networkSet(nets), null, 1);
    for (const [text, line999] of [[asYaml, 5 + 1000], [asJson, 9 + 999]] as const) {
      const { issues } = parsePolicyText(text, { file: 'f' });
      assert.equal(issues.length, 1001);
      assert.deepEqual(issues[999].field, 'spec.nets[999]');
      assert.equal(issues[999].position?.line, line999);
      assert.deepEqual(issueSummary(issues.slice(1000)), [['POLICY_MORE_ISSUES', '']]);
      assert.match(issues[1000].message, /^500 more issues/);
    }
  });

  it('carries the bad value in each issue', () => {
    const [issue] = parseDocs(withPort('70000')).issues;
    assert.equal(issue.value, '70000');
    assert.equal(issue.object, 'GlobalNetworkPolicy/p');
  });
});

function withPort(port: unknown): Record<string, unknown> {
  return policy({ ingress: [{ action: 'Allow', protocol: 'TCP', destination: { ports: [port] } }] });
}
