// HostEndpoint spec validation (api/.../hostendpoint.go; libcalico-go validateHostEndpointSpec,
// validateEndpointPort, interfaceRegex).
import { Checker } from './check';
import { FieldPath, IssueCode, showValue } from './issues';
import { EndpointPort, HostEndpointSpec } from './model';
import { formatIpAddress, NetError, parseIpAddress } from './nets';
import { isValidPortName } from './validate-rule';

const SPEC_FIELDS = ['node', 'interfaceName', 'expectedIPs', 'ports', 'profiles'];
const PORT_FIELDS = ['name', 'protocol', 'port'];
const PORT_PROTOCOLS: Readonly<Record<string | number, EndpointPort['protocol']>> = {
  TCP: 'TCP',
  UDP: 'UDP',
  SCTP: 'SCTP',
  6: 'TCP',
  17: 'UDP',
  132: 'SCTP',
};
/** Calico's interfaceRegex: Linux allows 15 characters (IFNAMSIZ 16 with the NUL). */
const INTERFACE_NAME = /^[a-zA-Z0-9_.-]{1,15}$/;

function checkInterfaceName(c: Checker, value: unknown, path: FieldPath): string | undefined {
  const name = c.string(value, path);
  if (name === undefined || name === '' || name === '*' || INTERFACE_NAME.test(name)) return name || undefined;
  c.report(path, IssueCode.BAD_INTERFACE, `${showValue(name)} is not an interface name ("*" or up to 15 of A-Z a-z 0-9 _ . -)`, name);
  return undefined;
}

function checkExpectedIps(c: Checker, value: unknown, path: FieldPath): string[] | undefined {
  const list = c.strings(value, path);
  if (!list) return undefined;
  const out = new Set<string>();
  list.forEach((text, i) => {
    try {
      const ip = parseIpAddress(text);
      out.add(formatIpAddress(ip.family, ip.addr));
    } catch (err) {
      if (!(err instanceof NetError)) throw err;
      c.report([...path, i], IssueCode.BAD_IP, `${showValue(text)} is not an IP address: ${err.reason}`, text);
    }
  });
  return [...out];
}

function checkEndpointPort(c: Checker, value: unknown, path: FieldPath, seen: Set<string>): EndpointPort | undefined {
  const obj = c.mapping(value, path);
  if (!obj) return undefined;
  c.fields(obj, path, PORT_FIELDS);
  const name = c.string(obj.name, [...path, 'name']);
  if (name === undefined) {
    if (obj.name === undefined) c.report(path, IssueCode.MISSING_FIELD, 'a named port needs a name');
  } else if (!isValidPortName(name)) {
    c.report([...path, 'name'], IssueCode.BAD_PORT, `${showValue(name)} is not a port name (up to 15 lower-case letters, digits and inner "-")`, name);
  } else if (seen.has(name)) {
    c.report([...path, 'name'], IssueCode.DUPLICATE, `port name "${name}" is used twice in this endpoint`, name);
  } else {
    seen.add(name);
  }
  const protocol = typeof obj.protocol === 'string' || typeof obj.protocol === 'number' ? PORT_PROTOCOLS[obj.protocol] : undefined;
  if (!protocol) {
    c.report(obj.protocol === undefined ? path : [...path, 'protocol'], IssueCode.BAD_PROTOCOL,
      `${showValue(obj.protocol)} is not a named-port protocol (TCP, UDP or SCTP)`, obj.protocol);
  }
  if (obj.port === undefined) c.report(path, IssueCode.MISSING_FIELD, 'a named port needs a port number');
  const port = c.integer(obj.port, [...path, 'port'], 1, 65535, IssueCode.BAD_PORT, 'a port');
  return name && protocol && port !== undefined ? { name, protocol, port } : undefined;
}

export function checkHostEndpointSpec(c: Checker, value: unknown, path: FieldPath): HostEndpointSpec | undefined {
  const obj = c.mapping(value, path);
  if (!obj) {
    if (value === undefined || value === null) c.report(path, IssueCode.MISSING_FIELD, 'a HostEndpoint needs a spec');
    return undefined;
  }
  c.fields(obj, path, SPEC_FIELDS);
  const node = c.string(obj.node, [...path, 'node']);
  if (!node) c.report(obj.node === undefined ? path : [...path, 'node'], IssueCode.MISSING_FIELD, 'node must be specified');
  const interfaceName = checkInterfaceName(c, obj.interfaceName, [...path, 'interfaceName']);
  const expectedIPs = checkExpectedIps(c, obj.expectedIPs, [...path, 'expectedIPs']);
  const hasInterface = typeof obj.interfaceName === 'string' && obj.interfaceName !== '';
  const hasIps = Array.isArray(obj.expectedIPs) && obj.expectedIPs.length > 0;
  if (!hasInterface && !hasIps) {
    c.report(path, IssueCode.HEP_NO_INTERFACE, 'a HostEndpoint needs an interfaceName or expectedIPs (or both)');
  }
  const spec: HostEndpointSpec = { node: node ?? '' };
  if (interfaceName) spec.interfaceName = interfaceName;
  if (expectedIPs?.length) spec.expectedIPs = expectedIPs;
  const ports = c.list(obj.ports, [...path, 'ports']);
  if (ports) {
    const seen = new Set<string>();
    const out = ports.map((p, i) => checkEndpointPort(c, p, [...path, 'ports', i], seen)).filter((p): p is EndpointPort => !!p);
    if (out.length) spec.ports = out;
  }
  const profiles = c.strings(obj.profiles, [...path, 'profiles']);
  if (profiles?.length) spec.profiles = profiles;
  return spec;
}
