import assert from 'node:assert/strict';
import { Doc, hostEndpoint, issueSummary, networkSet, parseDocs, policy, tier, withRule } from './helpers';

/** Each case: a document and the exact [code, field] issues it must produce, no more, no fewer. */
type Case = [title: string, doc: Doc, expected: Array<[string, string]>];

function runCases(cases: Case[]): void {
  for (const [title, doc, expected] of cases) {
    it(title, () => {
      const result = parseDocs(doc);
      assert.deepEqual(issueSummary(result.issues), expected);
      assert.equal(result.resources.length, 0, 'a document with issues yields no resource');
    });
  }
}

const tcp = { action: 'Allow', protocol: 'TCP' };

describe('policy validation refusals', () => {
  describe('documents and metadata', () => {
    runCases([
      ['a document that is not a mapping', ['x'] as unknown as Doc, [['POLICY_NOT_OBJECT', '']]],
      ['missing apiVersion and kind', { metadata: { name: 'a' } }, [['POLICY_MISSING_FIELD', ''], ['POLICY_MISSING_FIELD', '']]],
      ['kind: null (YAML flow style "{kind: }")', { ...policy(), kind: null }, [['POLICY_MISSING_FIELD', '']]],
      ['missing metadata', { ...policy(), metadata: undefined }, [['POLICY_MISSING_FIELD', 'metadata']]],
      ['missing name', { ...policy(), metadata: { labels: { a: 'b' } } }, [['POLICY_MISSING_FIELD', 'metadata.name']]],
      ['a name with capitals', policy({}, 'Allow-Web'), [['POLICY_BAD_NAME', 'metadata.name']]],
      ['a policy name with two dots', policy({}, 'a.b.c'), [['POLICY_BAD_NAME', 'metadata.name']]],
      ['a tier name with a dot', tier({}, 'a.b'), [['POLICY_BAD_NAME', 'metadata.name']]],
      ['a network set name over 253 characters', networkSet([], 'a'.repeat(254)), [['POLICY_BAD_NAME', 'metadata.name']]],
      ['a name that is a number', { ...policy(), metadata: { name: 7 } }, [['POLICY_BAD_TYPE', 'metadata.name']]],
      ['a bad label name', { ...policy(), metadata: { name: 'p', labels: { 'a b': 'x' } } }, [['POLICY_BAD_LABEL', 'metadata.labels["a b"]']]],
      ['a bad label value', { ...policy(), metadata: { name: 'p', labels: { role: 'x y' } } }, [['POLICY_BAD_LABEL', 'metadata.labels.role']]],
      ['a label value that is a number', { ...policy(), metadata: { name: 'p', labels: { n: 1 } } }, [['POLICY_BAD_TYPE', 'metadata.labels.n']]],
      ['a bad annotation name', { ...policy(), metadata: { name: 'p', annotations: { '-x': 'y' } } }, [['POLICY_BAD_ANNOTATION', 'metadata.annotations["-x"]']]],
      ['a namespace on a cluster-scoped resource', { ...policy(), metadata: { name: 'p', namespace: 'default' } }, [['POLICY_UNSUPPORTED_FIELD', 'metadata.namespace']]],
      ['an unknown top-level field', { ...policy(), status: {} }, [['POLICY_UNKNOWN_FIELD', 'status']]],
      ['an unknown metadata field', { ...policy(), metadata: { name: 'p', lables: {} } }, [['POLICY_UNKNOWN_FIELD', 'metadata.lables']]],
    ]);
  });

  describe('GlobalNetworkPolicy', () => {
    runCases([
      ['no preDNAT', policy({ preDNAT: undefined, applyOnForward: undefined }), [['POLICY_NOT_PREDNAT', 'spec']]],
      ['preDNAT: false', policy({ preDNAT: false }), [['POLICY_NOT_PREDNAT', 'spec.preDNAT']]],
      ['no spec at all', { ...policy(), spec: undefined }, [['POLICY_NOT_PREDNAT', 'spec']]],
      ['preDNAT without applyOnForward', policy({ applyOnForward: undefined }), [['POLICY_PREDNAT_APPLY_ON_FORWARD', 'spec']]],
      ['preDNAT with applyOnForward: false', policy({ applyOnForward: false }), [['POLICY_PREDNAT_APPLY_ON_FORWARD', 'spec.applyOnForward']]],
      ['preDNAT with doNotTrack', policy({ doNotTrack: true }), [['POLICY_PREDNAT_DO_NOT_TRACK', 'spec.doNotTrack']]],
      ['preDNAT with egress rules', policy({ egress: [{ action: 'Allow' }] }), [['POLICY_PREDNAT_EGRESS', 'spec.egress']]],
      ['preDNAT with the Egress type', policy({ types: ['Ingress', 'Egress'] }), [['POLICY_PREDNAT_EGRESS', 'spec.types[1]']]],
      ['an unknown policy type', policy({ types: ['ingress'] }), [['POLICY_BAD_TYPES', 'spec.types[0]']]],
      ['a repeated policy type', policy({ types: ['Ingress', 'Ingress'] }), [['POLICY_BAD_TYPES', 'spec.types[1]']]],
      ['preDNAT as a string', policy({ preDNAT: 'true' }), [['POLICY_NOT_PREDNAT', 'spec.preDNAT'], ['POLICY_BAD_TYPE', 'spec.preDNAT']]],
      ['order as a string', policy({ order: '10' }), [['POLICY_BAD_TYPE', 'spec.order']]],
      ['a bad tier name', policy({ tier: 'Security' }), [['POLICY_BAD_NAME', 'spec.tier']]],
      ['a bad policy selector', policy({ selector: "role == 'x" }), [['POLICY_BAD_SELECTOR', 'spec.selector']]],
      ['global() in the policy selector', policy({ selector: 'global()' }), [['POLICY_GLOBAL_SELECTOR', 'spec.selector']]],
      ['namespaceSelector (not supported)', policy({ namespaceSelector: 'has(x)' }), [['POLICY_UNSUPPORTED_FIELD', 'spec.namespaceSelector']]],
      ['a misspelt spec field', policy({ ingres: [] }), [['POLICY_UNKNOWN_FIELD', 'spec.ingres']]],
      ['ingress as a mapping', policy({ ingress: { action: 'Allow' } }), [['POLICY_BAD_TYPE', 'spec.ingress']]],
      ['more than 1024 rules', policy({ ingress: Array.from({ length: 1025 }, () => ({ action: 'Deny' })) }), [['POLICY_TOO_MANY', 'spec.ingress']]],
    ]);
  });

  describe('rules', () => {
    runCases([
      ['a rule without an action', withRule({ protocol: 'TCP' }), [['POLICY_MISSING_FIELD', 'spec.ingress[0].action']]],
      ['a lower-case action', withRule({ action: 'allow' }), [['POLICY_BAD_ACTION', 'spec.ingress[0].action']]],
      ['an unknown action', withRule({ action: 'Accept' }), [['POLICY_BAD_ACTION', 'spec.ingress[0].action']]],
      ['an empty rule', policy({ ingress: [null] }), [['POLICY_BAD_TYPE', 'spec.ingress[0]']]],
      ['a lower-case protocol', withRule({ action: 'Allow', protocol: 'tcp' }), [['POLICY_BAD_PROTOCOL', 'spec.ingress[0].protocol']]],
      ['an unknown protocol', withRule({ action: 'Allow', protocol: 'GRE' }), [['POLICY_BAD_PROTOCOL', 'spec.ingress[0].protocol']]],
      ['protocol 0', withRule({ action: 'Allow', protocol: 0 }), [['POLICY_BAD_PROTOCOL', 'spec.ingress[0].protocol']]],
      ['protocol 256', withRule({ action: 'Allow', notProtocol: 256 }), [['POLICY_BAD_PROTOCOL', 'spec.ingress[0].notProtocol']]],
      ['ipVersion 5', withRule({ action: 'Allow', ipVersion: 5 }), [['POLICY_BAD_IP_VERSION', 'spec.ingress[0].ipVersion']]],
      ['ipVersion "4" as a string', withRule({ action: 'Allow', ipVersion: '4' }), [['POLICY_BAD_IP_VERSION', 'spec.ingress[0].ipVersion']]],
      ['icmp without a protocol', withRule({ action: 'Allow', icmp: { type: 8 } }), [['POLICY_BAD_ICMP', 'spec.ingress[0].icmp']]],
      ['notICMP with protocol TCP', withRule({ ...tcp, notICMP: { type: 8 } }), [['POLICY_BAD_ICMP', 'spec.ingress[0].notICMP']]],
      ['icmp type 255', withRule({ action: 'Allow', protocol: 'ICMP', icmp: { type: 255 } }), [['POLICY_BAD_ICMP', 'spec.ingress[0].icmp.type']]],
      ['icmp code 256', withRule({ action: 'Allow', protocol: 'ICMP', icmp: { type: 3, code: 256 } }), [['POLICY_BAD_ICMP', 'spec.ingress[0].icmp.code']]],
      ['icmp code without type', withRule({ action: 'Allow', protocol: 'ICMP', icmp: { code: 1 } }), [['POLICY_BAD_ICMP', 'spec.ingress[0].icmp.code']]],
      ['an unknown icmp field', withRule({ action: 'Allow', protocol: 'ICMP', icmp: { typ: 1 } }), [['POLICY_UNKNOWN_FIELD', 'spec.ingress[0].icmp.typ']]],
      ['ICMP with ipVersion 6', withRule({ action: 'Allow', protocol: 'ICMP', ipVersion: 6 }), [['POLICY_FAMILY_CONFLICT', 'spec.ingress[0].ipVersion']]],
      ['notProtocol ICMPv6 with ipVersion 4', withRule({ action: 'Allow', notProtocol: 'ICMPv6', ipVersion: 4 }), [['POLICY_FAMILY_CONFLICT', 'spec.ingress[0].ipVersion']]],
      ['ICMPv6 with an IPv4 net', withRule({ action: 'Allow', protocol: 'ICMPv6', source: { nets: ['10.0.0.0/8'] } }), [['POLICY_FAMILY_CONFLICT', 'spec.ingress[0].source.nets[0]']]],
      ['ipVersion 4 with an IPv6 net', withRule({ action: 'Allow', ipVersion: 4, destination: { notNets: ['::1'] } }), [['POLICY_FAMILY_CONFLICT', 'spec.ingress[0].destination.notNets[0]']]],
      ['IPv4 and IPv6 nets in one rule', withRule({ action: 'Allow', source: { nets: ['10.0.0.0/8'] }, destination: { nets: ['2001:db8::/32'] } }), [['POLICY_FAMILY_CONFLICT', 'spec.ingress[0].destination.nets[0]']]],
      ['a bad net', withRule({ action: 'Allow', source: { nets: ['10.0.0.0/8', '010.0.0.1'] } }), [['POLICY_BAD_CIDR', 'spec.ingress[0].source.nets[1]']]],
      ['a shortened IPv4 net', withRule({ action: 'Allow', source: { notNets: ['10.1'] } }), [['POLICY_BAD_CIDR', 'spec.ingress[0].source.notNets[0]']]],
      ['a net that is a number', withRule({ action: 'Allow', source: { nets: [10] } }), [['POLICY_BAD_TYPE', 'spec.ingress[0].source.nets[0]']]],
      ['257 nets', withRule({ action: 'Allow', source: { nets: Array.from({ length: 257 }, (_, i) => `10.0.${i >> 8}.${i & 255}`) } }), [['POLICY_TOO_MANY', 'spec.ingress[0].source.nets']]],
      ['port 0', withRule({ ...tcp, destination: { ports: [0] } }), [['POLICY_BAD_PORT', 'spec.ingress[0].destination.ports[0]']]],
      ['port 70000', withRule({ ...tcp, destination: { ports: [80, '70000'] } }), [['POLICY_BAD_PORT', 'spec.ingress[0].destination.ports[1]']]],
      ['a reversed range', withRule({ ...tcp, destination: { ports: ['90:80'] } }), [['POLICY_BAD_PORT', 'spec.ingress[0].destination.ports[0]']]],
      ['a range to 65536', withRule({ ...tcp, source: { notPorts: ['1:65536'] } }), [['POLICY_BAD_PORT', 'spec.ingress[0].source.notPorts[0]']]],
      ['a range with a dash', withRule({ ...tcp, destination: { ports: ['80-90'] } }), [['POLICY_BAD_PORT', 'spec.ingress[0].destination.ports[0]']]],
      ['an upper-case port name', withRule({ ...tcp, destination: { ports: ['HTTP'] } }), [['POLICY_BAD_PORT', 'spec.ingress[0].destination.ports[0]']]],
      ['a port name over 15 characters', withRule({ ...tcp, destination: { ports: ['a-very-long-name-x'] } }), [['POLICY_BAD_PORT', 'spec.ingress[0].destination.ports[0]']]],
      ['a fractional port', withRule({ ...tcp, destination: { ports: [80.5] } }), [['POLICY_BAD_PORT', 'spec.ingress[0].destination.ports[0]']]],
      ['51 ports', withRule({ ...tcp, destination: { ports: Array.from({ length: 51 }, (_, i) => i + 1) } }), [['POLICY_TOO_MANY', 'spec.ingress[0].destination.ports']]],
      ['ports without a protocol', withRule({ action: 'Allow', destination: { ports: [80] } }), [['POLICY_PORTS_NEED_PROTOCOL', 'spec.ingress[0].destination.ports']]],
      ['ports with protocol ICMP', withRule({ action: 'Allow', protocol: 'ICMP', source: { notPorts: [80] } }), [['POLICY_PORTS_NEED_PROTOCOL', 'spec.ingress[0].source.notPorts']]],
      ['ports with UDPLite', withRule({ action: 'Allow', protocol: 'UDPLite', destination: { ports: [80] } }), [['POLICY_PORTS_NEED_PROTOCOL', 'spec.ingress[0].destination.ports']]],
      ['a bad rule selector', withRule({ action: 'Allow', source: { selector: 'a ==' } }), [['POLICY_BAD_SELECTOR', 'spec.ingress[0].source.selector']]],
      ['global() in a notSelector', withRule({ action: 'Allow', destination: { notSelector: 'global()' } }), [['POLICY_GLOBAL_SELECTOR', 'spec.ingress[0].destination.notSelector']]],
      ['serviceAccounts (not supported)', withRule({ action: 'Allow', source: { serviceAccounts: { names: ['x'] } } }), [['POLICY_UNSUPPORTED_FIELD', 'spec.ingress[0].source.serviceAccounts']]],
      ['http (not supported)', withRule({ action: 'Allow', http: { methods: ['GET'] } }), [['POLICY_UNSUPPORTED_FIELD', 'spec.ingress[0].http']]],
      ['an unknown entity field', withRule({ action: 'Allow', source: { net: ['10.0.0.0/8'] } }), [['POLICY_UNKNOWN_FIELD', 'spec.ingress[0].source.net']]],
      ['rule metadata beyond annotations', withRule({ action: 'Allow', metadata: { labels: {} } }), [['POLICY_UNKNOWN_FIELD', 'spec.ingress[0].metadata.labels']]],
    ]);

    it('does not add a ports error when the protocol itself was refused', () => {
      const result = parseDocs(withRule({ action: 'Allow', protocol: 'tcp', destination: { ports: [80] } }));
      assert.deepEqual(issueSummary(result.issues), [['POLICY_BAD_PROTOCOL', 'spec.ingress[0].protocol']]);
      assert.match(result.issues[0].message, /did you mean "TCP"/);
    });
  });

  describe('HostEndpoint', () => {
    runCases([
      ['no node', hostEndpoint({ node: undefined }), [['POLICY_MISSING_FIELD', 'spec']]],
      ['an empty node', hostEndpoint({ node: '' }), [['POLICY_MISSING_FIELD', 'spec.node']]],
      ['no spec', { ...hostEndpoint(), spec: undefined }, [['POLICY_MISSING_FIELD', 'spec']]],
      ['neither interfaceName nor expectedIPs', hostEndpoint({ interfaceName: undefined }), [['POLICY_HEP_NO_INTERFACE', 'spec']]],
      ['an empty interfaceName and no IPs', hostEndpoint({ interfaceName: '', expectedIPs: [] }), [['POLICY_HEP_NO_INTERFACE', 'spec']]],
      ['a 16-character interface name', hostEndpoint({ interfaceName: 'abcdefghijklmnop' }), [['POLICY_BAD_INTERFACE', 'spec.interfaceName']]],
      ['an interface glob other than "*"', hostEndpoint({ interfaceName: 'eth*' }), [['POLICY_BAD_INTERFACE', 'spec.interfaceName']]],
      ['a CIDR in expectedIPs', hostEndpoint({ expectedIPs: ['10.0.0.1', '10.0.0.0/24'] }), [['POLICY_BAD_IP', 'spec.expectedIPs[1]']]],
      ['an octal expected IP', hostEndpoint({ expectedIPs: ['010.0.0.1'] }), [['POLICY_BAD_IP', 'spec.expectedIPs[0]']]],
      ['a repeated port name', hostEndpoint({ ports: [{ name: 'web', protocol: 'TCP', port: 80 }, { name: 'web', protocol: 'UDP', port: 81 }] }), [['POLICY_DUPLICATE', 'spec.ports[1].name']]],
      ['a named port with protocol ICMP', hostEndpoint({ ports: [{ name: 'web', protocol: 'ICMP', port: 80 }] }), [['POLICY_BAD_PROTOCOL', 'spec.ports[0].protocol']]],
      ['a named port without protocol', hostEndpoint({ ports: [{ name: 'web', port: 80 }] }), [['POLICY_BAD_PROTOCOL', 'spec.ports[0]']]],
      ['a named port 65536', hostEndpoint({ ports: [{ name: 'web', protocol: 'TCP', port: 65536 }] }), [['POLICY_BAD_PORT', 'spec.ports[0].port']]],
      ['a named port without a number', hostEndpoint({ ports: [{ name: 'web', protocol: 'TCP' }] }), [['POLICY_MISSING_FIELD', 'spec.ports[0]']]],
      ['a bad port name', hostEndpoint({ ports: [{ name: 'Web', protocol: 'TCP', port: 80 }] }), [['POLICY_BAD_PORT', 'spec.ports[0].name']]],
      ['profiles that are not strings', hostEndpoint({ profiles: [{}] }), [['POLICY_BAD_TYPE', 'spec.profiles[0]']]],
      ['an unknown spec field', hostEndpoint({ interface: 'eth0' }), [['POLICY_UNKNOWN_FIELD', 'spec.interface']]],
    ]);
  });

  describe('GlobalNetworkSet and Tier', () => {
    runCases([
      ['a bad net in a set', networkSet(['10.0.0.0/8', '1.2.3', '::/129']), [['POLICY_BAD_CIDR', 'spec.nets[1]'], ['POLICY_BAD_CIDR', 'spec.nets[2]']]],
      ['nets as a string', networkSet('10.0.0.0/8'), [['POLICY_BAD_TYPE', 'spec.nets']]],
      ['the reserved namespace label', { ...networkSet([]), metadata: { name: 's', labels: { 'projectcalico.org/namespace': 'x' } } }, [['POLICY_BAD_LABEL', 'metadata.labels["projectcalico.org/namespace"]']]],
      ['an unknown set field', { ...networkSet([]), spec: { nets: [], allowedEgressDomains: [] } }, [['POLICY_UNKNOWN_FIELD', 'spec.allowedEgressDomains']]],
      ['a tier defaultAction Allow', tier({ defaultAction: 'Allow' }), [['POLICY_BAD_DEFAULT_ACTION', 'spec.defaultAction']]],
      ['a tier order as a string', tier({ order: 'first' }), [['POLICY_BAD_TYPE', 'spec.order']]],
      ['the default tier at another order', tier({ order: 5 }, 'default'), [['POLICY_BAD_ORDER', 'spec.order']]],
      ['the default tier passing', tier({ order: 1000000, defaultAction: 'Pass' }, 'default'), [['POLICY_BAD_DEFAULT_ACTION', 'spec.defaultAction']]],
    ]);
  });
});
