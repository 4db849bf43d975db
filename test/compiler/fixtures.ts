// Small builders for Calico resources in compiler tests.
import {
  API_VERSION, GlobalNetworkPolicy, GlobalNetworkPolicySpec, GlobalNetworkSet, HostEndpoint, HostEndpointSpec, Resource, Rule, Tier,
} from '../../src/policy/model';

export function hep(name: string, spec: Partial<HostEndpointSpec>, labels: Record<string, string> = {}): HostEndpoint {
  return { apiVersion: API_VERSION, kind: 'HostEndpoint', metadata: { name, labels }, spec: { node: 'node1', ...spec } };
}

export function gnp(name: string, spec: Partial<GlobalNetworkPolicySpec>, ingress: Rule[] = []): GlobalNetworkPolicy {
  return {
    apiVersion: API_VERSION,
    kind: 'GlobalNetworkPolicy',
    metadata: { name },
    spec: { preDNAT: true, applyOnForward: true, selector: 'has(host)', ingress, ...spec },
  };
}

export function gns(name: string, nets: string[], labels: Record<string, string>): GlobalNetworkSet {
  return { apiVersion: API_VERSION, kind: 'GlobalNetworkSet', metadata: { name, labels }, spec: { nets } };
}

export function tier(name: string, order?: number): Tier {
  return { apiVersion: API_VERSION, kind: 'Tier', metadata: { name }, spec: order === undefined ? {} : { order } };
}

/** A representative policy set touching every construct the compiler emits. */
export function representative(): Resource[] {
  return [
    hep('eth0-hep', { interfaceName: 'eth0', expectedIPs: ['10.0.0.1', 'fd00::1'], ports: [{ name: 'http', protocol: 'TCP', port: 8080 }] }, { host: 'a' }),
    hep('star', { interfaceName: '*', expectedIPs: ['10.0.0.1'] }, { host: 'a' }),
    hep('byip', { expectedIPs: ['10.0.0.7', '10.0.0.8'] }, { host: 'b' }),
    hep('other-node', { node: 'node2', interfaceName: 'eth0', expectedIPs: ['10.0.0.2'] }, { host: 'c', role: 'peer' }),
    gns('blocked', ['192.168.0.0/24', '192.168.1.0/24', '2001:db8::/32', '10.1.2.3', '255.255.255.0/24'], { bad: 'yes' }),
    tier('security', 100),
    gnp('deny-bad', { tier: 'security', order: 1 }, [{ action: 'Deny', source: { selector: "bad == 'yes'" } }, { action: 'Pass' }]),
    gnp('allow-web', { order: 10 }, [
      { action: 'Allow', protocol: 'TCP', destination: { ports: [80, 443, '8000:8100', 'http'] } },
      { action: 'Log', protocol: 'ICMP', icmp: { type: 8, code: 0 } },
      { action: 'Allow', protocol: 'UDP', source: { nets: ['10.0.0.0/8', '172.16.0.0/12'], notNets: ['10.9.0.0/16'] }, destination: { ports: [53] } },
      { action: 'Deny', protocol: 'ICMPv6', notICMP: { type: 128, code: 0 } },
      { action: 'Allow', protocol: 'TCP', source: { notSelector: "role == 'peer'", notPorts: ['1:1023', 2049] }, destination: { nets: ['10.0.0.0/9'], notPorts: [22] } },
      { action: 'Allow', notProtocol: 'UDP', ipVersion: 6, source: { nets: ['fd00::/9'] } },
    ]),
    gnp('deny-all', { order: 1000 }, [{ action: 'Deny' }]),
  ];
}
