// Validation of policy rules and their entity rules (Calico api/.../policy_common.go; checks follow
// libcalico-go/lib/validator/v3 validateRule, validatePort, validateICMPFields and the CRD's CEL rules).
import { Checker, Mapping } from './check';
import { FieldPath, IssueCode, showValue } from './issues';
import { Action, EntityRule, IcmpMatch, Port, Protocol, Rule } from './model';
import { canonicalCidr, NetError } from './nets';
import { canonicalProtocolName, PROTOCOL_ICMP, PROTOCOL_ICMPV6, PROTOCOL_NUMBERS, protocolNumber, supportsPorts } from './protocol';
import { parseSelector, SelectorError } from './selector';

const ACTIONS: readonly Action[] = ['Allow', 'Deny', 'Log', 'Pass'];
const RULE_FIELDS = ['action', 'protocol', 'notProtocol', 'ipVersion', 'icmp', 'notICMP', 'source', 'destination', 'metadata'];
const RULE_UNSUPPORTED = ['http'];
const ENTITY_FIELDS = ['nets', 'notNets', 'ports', 'notPorts', 'selector', 'notSelector'];
const ENTITY_UNSUPPORTED = ['namespaceSelector', 'serviceAccounts', 'services'];
const NET_FIELDS = ['nets', 'notNets'] as const;
const PORT_FIELDS = ['ports', 'notPorts'] as const;

/** Calico's per-list limits (EntityRule `validate:"max=256"` on nets, `max=50` on ports). */
export const MAX_NETS = 256;
export const MAX_PORTS = 50;
const MAX_PORT = 65535;

/** Kubernetes IsValidPortName (IANA service name), which Calico applies to named ports. */
export function isValidPortName(name: string): boolean {
  return name.length <= 15 && /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/.test(name) && /[a-z]/.test(name) && !name.includes('--');
}

export function checkProtocol(c: Checker, value: unknown, path: FieldPath): Protocol | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string' && /^[0-9]+$/.test(value)) {
    // numorstring.Uint8OrString: a quoted number is a number.
    return checkProtocol(c, Number(value), path);
  }
  if (typeof value === 'number') {
    if (Number.isInteger(value) && value >= 1 && value <= 255) return value;
    c.report(path, IssueCode.BAD_PROTOCOL, `${showValue(value)} is not a protocol number (1-255)`, value);
    return undefined;
  }
  if (typeof value === 'string') {
    if (value in PROTOCOL_NUMBERS) return value;
    const hint = canonicalProtocolName(value);
    const names = Object.keys(PROTOCOL_NUMBERS).join(', ');
    c.report(path, IssueCode.BAD_PROTOCOL, `${showValue(value)} is not a protocol (${hint ? `did you mean "${hint}"?` : `${names} or 1-255`})`, value);
    return undefined;
  }
  c.report(path, IssueCode.BAD_TYPE, `${showValue(value)} is not a protocol name or number`, value);
  return undefined;
}

const PORT_HELP = '1-65535 or "a:b" or a name';

function portNumber(text: string): number | undefined {
  const n = Number(text);
  return n >= 1 && n <= MAX_PORT ? n : undefined;
}

/** A port: a number, "a:b" (canonical "a:b", or the number when a == b) or a named port. */
export function checkPort(c: Checker, value: unknown, path: FieldPath): Port | undefined {
  const bad = (why = ''): undefined => {
    c.report(path, IssueCode.BAD_PORT, `${showValue(value)} is not a port (${PORT_HELP})${why}`, value);
    return undefined;
  };
  if (typeof value === 'number') return Number.isInteger(value) && value >= 1 && value <= MAX_PORT ? value : bad();
  if (typeof value !== 'string') return bad();
  if (/^[0-9]+$/.test(value)) return portNumber(value) ?? bad();
  const range = /^([0-9]+):([0-9]+)$/.exec(value);
  if (range) {
    const lo = portNumber(range[1]);
    const hi = portNumber(range[2]);
    if (lo === undefined || hi === undefined) return bad();
    if (lo > hi) return bad(`: the range starts above its end`);
    return lo === hi ? lo : `${lo}:${hi}`;
  }
  return isValidPortName(value) ? value : bad(': a port name is up to 15 lower-case letters, digits and inner "-"');
}

export function checkSelector(c: Checker, value: unknown, path: FieldPath): string | undefined {
  const text = c.string(value, path);
  if (text === undefined) return undefined;
  try {
    parseSelector(text);
    return text;
  } catch (err) {
    if (!(err instanceof SelectorError)) throw err;
    const code = err.code === 'SELECTOR_GLOBAL' ? IssueCode.GLOBAL_SELECTOR : IssueCode.BAD_SELECTOR;
    c.report(path, code, `${showValue(text)} is not a valid selector: ${err.reason} at offset ${err.offset}`, text);
    return undefined;
  }
}

/** Address families seen in a rule's nets, with where each was first seen. */
interface FamilyScan {
  first: Map<4 | 6, FieldPath>;
}

function checkNets(c: Checker, value: unknown, path: FieldPath, scan: FamilyScan): string[] | undefined {
  const list = c.list(value, path);
  if (!list) return undefined;
  if (list.length > MAX_NETS) {
    c.report(path, IssueCode.TOO_MANY, `${list.length} nets, at most ${MAX_NETS} are allowed in one rule (use a GlobalNetworkSet and a selector)`, list.length);
  }
  const out: string[] = [];
  list.forEach((item, i) => {
    const text = c.string(item, [...path, i]);
    if (text === undefined) return;
    try {
      const cidr = canonicalCidr(text);
      out.push(cidr.text);
      if (!scan.first.has(cidr.family)) scan.first.set(cidr.family, [...path, i]);
    } catch (err) {
      if (!(err instanceof NetError)) throw err;
      c.report([...path, i], IssueCode.BAD_CIDR, `${showValue(text)} is not a CIDR: ${err.reason}`, text);
    }
  });
  return out;
}

function checkPorts(c: Checker, value: unknown, path: FieldPath): Port[] | undefined {
  const list = c.list(value, path);
  if (!list) return undefined;
  if (list.length > MAX_PORTS) {
    c.report(path, IssueCode.TOO_MANY, `${list.length} ports, at most ${MAX_PORTS} are allowed in one list`, list.length);
  }
  const out: Port[] = [];
  list.forEach((item, i) => {
    const port = checkPort(c, item, [...path, i]);
    if (port !== undefined) out.push(port);
  });
  return out;
}

function checkEntityRule(c: Checker, value: unknown, path: FieldPath, scan: FamilyScan): EntityRule | undefined {
  const obj = c.mapping(value, path);
  if (!obj) return undefined;
  c.fields(obj, path, ENTITY_FIELDS, ENTITY_UNSUPPORTED);
  const out: EntityRule = {};
  for (const f of NET_FIELDS) {
    const nets = checkNets(c, obj[f], [...path, f], scan);
    if (nets) out[f] = nets;
  }
  for (const f of PORT_FIELDS) {
    const ports = checkPorts(c, obj[f], [...path, f]);
    if (ports) out[f] = ports;
  }
  for (const f of ['selector', 'notSelector'] as const) {
    const sel = checkSelector(c, obj[f], [...path, f]);
    if (sel) out[f] = sel;
  }
  return Object.keys(out).length ? out : undefined;
}

function checkIcmp(c: Checker, value: unknown, path: FieldPath): IcmpMatch | undefined {
  const obj = c.mapping(value, path);
  if (!obj) return undefined;
  c.fields(obj, path, ['type', 'code']);
  const out: IcmpMatch = {};
  const type = c.integer(obj.type, [...path, 'type'], 0, 254, IssueCode.BAD_ICMP, 'an ICMP type');
  const code = c.integer(obj.code, [...path, 'code'], 0, 255, IssueCode.BAD_ICMP, 'an ICMP code');
  if (type !== undefined) out.type = type;
  if (code !== undefined) out.code = code;
  if (obj.code !== undefined && obj.type === undefined) {
    c.report([...path, 'code'], IssueCode.BAD_ICMP, 'an ICMP code needs an ICMP type (the kernel matches the code only with the type)', obj.code);
  }
  return out;
}

function checkAction(c: Checker, value: unknown, path: FieldPath): Action | undefined {
  if (value === undefined || value === null) {
    c.report(path, IssueCode.MISSING_FIELD, 'a rule needs an action (Allow, Deny, Log or Pass)');
    return undefined;
  }
  if (ACTIONS.includes(value as Action)) return value as Action;
  const hint = typeof value === 'string' ? ACTIONS.find((a) => a.toLowerCase() === value.toLowerCase()) : undefined;
  c.report(path, IssueCode.BAD_ACTION, `${showValue(value)} is not an action (${hint ? `did you mean "${hint}"?` : 'Allow, Deny, Log or Pass'})`, value);
  return undefined;
}

/** The address family a protocol implies: ICMP is IPv4 only, ICMPv6 IPv6 only. */
function protocolFamily(p: Protocol | undefined): 4 | 6 | undefined {
  if (p === undefined) return undefined;
  const n = protocolNumber(p);
  return n === PROTOCOL_ICMP ? 4 : n === PROTOCOL_ICMPV6 ? 6 : undefined;
}

type RuleBody = Omit<Rule, 'action'>;

function checkFamilies(c: Checker, path: FieldPath, rule: RuleBody, scan: FamilyScan): void {
  const v4 = scan.first.get(4);
  const v6 = scan.first.get(6);
  if (v4 && v6) {
    c.report(v6, IssueCode.FAMILY_CONFLICT, 'the rule mixes IPv4 and IPv6 nets; split it into one rule per ipVersion');
  }
  for (const [field, p] of [['protocol', rule.protocol], ['notProtocol', rule.notProtocol]] as const) {
    const family = protocolFamily(p);
    if (family !== undefined && rule.ipVersion !== undefined && rule.ipVersion !== family) {
      c.report([...path, 'ipVersion'], IssueCode.FAMILY_CONFLICT, `${field} ${p} needs ipVersion ${family}`, rule.ipVersion);
    }
  }
  const implied = rule.ipVersion ?? protocolFamily(rule.protocol);
  const other = implied === 4 ? v6 : implied === 6 ? v4 : undefined;
  if (other && !(v4 && v6)) {
    const why = rule.ipVersion !== undefined ? `ipVersion is ${rule.ipVersion}` : `protocol ${rule.protocol} is IPv${implied} only`;
    c.report(other, IssueCode.FAMILY_CONFLICT, `an IPv${implied === 4 ? 6 : 4} net in a rule where ${why}`);
  }
}

function checkPortsNeedProtocol(c: Checker, path: FieldPath, rule: RuleBody): void {
  if (rule.protocol !== undefined && supportsPorts(rule.protocol)) return;
  for (const side of ['source', 'destination'] as const) {
    for (const f of PORT_FIELDS) {
      if (rule[side]?.[f]?.length) {
        c.report([...path, side, f], IssueCode.PORTS_NEED_PROTOCOL, `${f} need protocol TCP, UDP or SCTP${rule.protocol !== undefined ? `, not ${rule.protocol}` : ''}`);
      }
    }
  }
}

function checkIcmpNeedsProtocol(c: Checker, path: FieldPath, rule: RuleBody): void {
  for (const f of ['icmp', 'notICMP'] as const) {
    if (rule[f] && protocolFamily(rule.protocol) === undefined) {
      c.report([...path, f], IssueCode.BAD_ICMP, `${f} needs protocol ICMP or ICMPv6${rule.protocol !== undefined ? `, not ${rule.protocol}` : ''}`);
    }
  }
}

function checkRuleMetadata(c: Checker, value: unknown, path: FieldPath): Rule['metadata'] {
  const obj = c.mapping(value, path);
  if (!obj) return undefined;
  c.fields(obj, path, ['annotations']);
  const annotations = c.stringMap(obj.annotations, [...path, 'annotations']);
  return annotations ? { annotations } : undefined;
}

export function checkRule(c: Checker, value: unknown, path: FieldPath): Rule | undefined {
  const obj: Mapping | undefined = c.mapping(value, path);
  if (!obj) {
    if (value === undefined || value === null) c.report(path, IssueCode.BAD_TYPE, 'a rule is a mapping, not empty');
    return undefined;
  }
  c.fields(obj, path, RULE_FIELDS, RULE_UNSUPPORTED);
  const action = checkAction(c, obj.action, [...path, 'action']);
  const rule: RuleBody = {};
  const protocol = checkProtocol(c, obj.protocol, [...path, 'protocol']);
  if (protocol !== undefined) rule.protocol = protocol;
  const notProtocol = checkProtocol(c, obj.notProtocol, [...path, 'notProtocol']);
  if (notProtocol !== undefined) rule.notProtocol = notProtocol;
  if (obj.ipVersion !== undefined && obj.ipVersion !== null) {
    if (obj.ipVersion === 4 || obj.ipVersion === 6) rule.ipVersion = obj.ipVersion;
    else c.report([...path, 'ipVersion'], IssueCode.BAD_IP_VERSION, `${showValue(obj.ipVersion)} is not an ipVersion (4 or 6)`, obj.ipVersion);
  }
  for (const f of ['icmp', 'notICMP'] as const) {
    const icmp = checkIcmp(c, obj[f], [...path, f]);
    if (icmp) rule[f] = icmp;
  }
  const scan: FamilyScan = { first: new Map() };
  for (const side of ['source', 'destination'] as const) {
    const entity = checkEntityRule(c, obj[side], [...path, side], scan);
    if (entity) rule[side] = entity;
  }
  const metadata = checkRuleMetadata(c, obj.metadata, [...path, 'metadata']);
  if (metadata) rule.metadata = metadata;
  // A protocol that was itself refused says nothing about ports or ICMP: no second error for it.
  const protocolRefused = obj.protocol !== undefined && obj.protocol !== null && protocol === undefined;
  if (!protocolRefused) {
    checkPortsNeedProtocol(c, path, rule);
    checkIcmpNeedsProtocol(c, path, rule);
  }
  checkFamilies(c, path, rule, scan);
  return action ? { action, ...rule } : undefined;
}
