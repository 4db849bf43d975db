// PolicyIssue helpers: field paths, value display, the stable codes and the one-line CLI form.
import { PolicyIssue } from './model';

/** A field path inside a document: ['spec', 'ingress', 0, 'destination', 'ports', 1]. */
export type FieldPath = ReadonlyArray<string | number>;

/**
 * Stable issue codes. Tools and tests match on these, so a code never changes meaning; the message
 * text may be reworded.
 */
export const IssueCode = {
  /** The file could not be read. */
  FILE: 'POLICY_FILE',
  /** YAML or JSON syntax error. */
  SYNTAX: 'POLICY_SYNTAX',
  /** A document (or a List item) is not a mapping. */
  NOT_OBJECT: 'POLICY_NOT_OBJECT',
  /** apiVersion is not projectcalico.org/v3 (skippable). */
  BAD_API_VERSION: 'POLICY_BAD_API_VERSION',
  /** kind is not one flockguard enforces (skippable). */
  UNSUPPORTED_KIND: 'POLICY_UNSUPPORTED_KIND',
  /** A GlobalNetworkPolicy without preDNAT: true (skippable). */
  NOT_PREDNAT: 'POLICY_NOT_PREDNAT',
  MISSING_FIELD: 'POLICY_MISSING_FIELD',
  UNKNOWN_FIELD: 'POLICY_UNKNOWN_FIELD',
  /** A Calico field flockguard does not implement (http, serviceAccounts, ...). */
  UNSUPPORTED_FIELD: 'POLICY_UNSUPPORTED_FIELD',
  BAD_TYPE: 'POLICY_BAD_TYPE',
  BAD_NAME: 'POLICY_BAD_NAME',
  BAD_LABEL: 'POLICY_BAD_LABEL',
  BAD_ANNOTATION: 'POLICY_BAD_ANNOTATION',
  DUPLICATE: 'POLICY_DUPLICATE',
  BAD_ACTION: 'POLICY_BAD_ACTION',
  BAD_PROTOCOL: 'POLICY_BAD_PROTOCOL',
  BAD_IP_VERSION: 'POLICY_BAD_IP_VERSION',
  BAD_ICMP: 'POLICY_BAD_ICMP',
  BAD_CIDR: 'POLICY_BAD_CIDR',
  BAD_IP: 'POLICY_BAD_IP',
  /** IPv4 and IPv6 in one rule, or nets that contradict ipVersion or the ICMP protocol. */
  FAMILY_CONFLICT: 'POLICY_FAMILY_CONFLICT',
  TOO_MANY: 'POLICY_TOO_MANY',
  BAD_PORT: 'POLICY_BAD_PORT',
  PORTS_NEED_PROTOCOL: 'POLICY_PORTS_NEED_PROTOCOL',
  BAD_SELECTOR: 'POLICY_BAD_SELECTOR',
  GLOBAL_SELECTOR: 'POLICY_GLOBAL_SELECTOR',
  BAD_TYPES: 'POLICY_BAD_TYPES',
  PREDNAT_APPLY_ON_FORWARD: 'POLICY_PREDNAT_APPLY_ON_FORWARD',
  PREDNAT_EGRESS: 'POLICY_PREDNAT_EGRESS',
  PREDNAT_DO_NOT_TRACK: 'POLICY_PREDNAT_DO_NOT_TRACK',
  BAD_ORDER: 'POLICY_BAD_ORDER',
  BAD_INTERFACE: 'POLICY_BAD_INTERFACE',
  HEP_NO_INTERFACE: 'POLICY_HEP_NO_INTERFACE',
  BAD_DEFAULT_ACTION: 'POLICY_BAD_DEFAULT_ACTION',
  /** More issues in one document than are listed (the count is in the message). */
  MORE_ISSUES: 'POLICY_MORE_ISSUES',
} as const;
export type IssueCode = (typeof IssueCode)[keyof typeof IssueCode];

const PLAIN_KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** "spec.ingress[0].destination.ports[1]"; odd keys (label names) in brackets: labels["k8s.io/x"]. */
export function formatFieldPath(path: FieldPath): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (PLAIN_KEY.test(seg)) out += out ? `.${seg}` : seg;
    else out += `[${JSON.stringify(seg)}]`;
  }
  return out;
}

const MAX_SHOWN = 80;

/** A short, unambiguous rendering of a value for messages: strings quoted, long values cut. */
export function showValue(value: unknown): string {
  let text: string;
  if (value === undefined) text = 'undefined';
  else if (typeof value === 'string') text = JSON.stringify(value);
  else if (Array.isArray(value)) text = `a list of ${value.length}`;
  else if (value !== null && typeof value === 'object') text = 'a mapping';
  else text = String(value);
  return text.length > MAX_SHOWN ? `${text.slice(0, MAX_SHOWN - 3)}...` : text;
}

/**
 * One line per issue for the CLI:
 * `policy.yaml:12:9: GlobalNetworkPolicy/allow-web: spec.ingress[0].destination.ports[1]: "70000" is not a port ... [POLICY_BAD_PORT]`
 */
export function formatIssue(issue: PolicyIssue): string {
  const parts: string[] = [];
  const pos = issue.position;
  if (pos && (pos.file !== undefined || pos.line !== undefined)) {
    let where = pos.file ?? '<input>';
    if (pos.line !== undefined) where += `:${pos.line}${pos.column !== undefined ? `:${pos.column}` : ''}`;
    parts.push(where);
  }
  if (issue.object) parts.push(issue.object);
  if (issue.field) parts.push(issue.field);
  parts.push(`${issue.message} [${issue.code}]`);
  return parts.join(': ');
}
