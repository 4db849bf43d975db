// Validation of one decoded document into a normalised Resource. Every problem is collected (not
// just the first); a document with any finding yields no resource. Resources come out normalised
// (known fields only, fixed key order, CIDRs masked and canonical, defaults filled) so that the same
// input always gives the same resources.
import { Checker, Finding, isMapping, Mapping } from './check';
import { FieldPath, IssueCode, showValue } from './issues';
import {
  API_VERSION,
  GlobalNetworkSetSpec,
  Kind,
  KINDS,
  Metadata,
  Resource,
  TierSpec,
} from './model';
import { canonicalCidr, NetError } from './nets';
import { checkHostEndpointSpec } from './validate-hostendpoint';
import { checkPolicySpec, isPreDnat, TIER_NAME } from './validate-policy';

export interface ValidateOptions {
  /** Report documents flockguard does not enforce in `skipped` instead of refusing them. */
  skipUnsupported?: boolean;
}

export interface DocumentOutcome {
  /** "Kind/name" when both could be read. */
  object?: string;
  resource?: Resource;
  findings: Finding[];
  /** Why the document was skipped (only with skipUnsupported). */
  skipped?: Finding;
}

const DOCUMENT_FIELDS = ['apiVersion', 'kind', 'metadata', 'spec'];
const METADATA_FIELDS = ['name', 'labels', 'annotations'];
/** Server-populated fields that `calicoctl get -o yaml` writes out; accepted and dropped. */
const METADATA_IGNORED = ['uid', 'resourceVersion', 'creationTimestamp', 'generation'];
const METADATA_UNSUPPORTED = ['namespace'];

const DNS_LABEL = '[a-z0-9]([-a-z0-9]*[a-z0-9])?';
const DNS_SUBDOMAIN = new RegExp(`^${DNS_LABEL}(\\.${DNS_LABEL})*$`);
/** libcalico-go globalNetworkPolicyNameRegex: a DNS label, optionally "tier.label". */
const POLICY_NAME = new RegExp(`^(${DNS_LABEL}\\.)?${DNS_LABEL}$`);
const LABEL_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const MAX_ANNOTATIONS_BYTES = 256 * 1024;
/** Reserved by Calico for its v1 data model (validateGlobalNetworkSet). */
const RESERVED_NETWORK_SET_LABEL = 'projectcalico.org/namespace';

/** Kubernetes IsQualifiedName: [prefix/]name, prefix a DNS subdomain, name up to 63 characters. */
function isQualifiedName(key: string): boolean {
  const parts = key.split('/');
  const name = parts[parts.length - 1];
  if (parts.length > 2 || name.length > 63 || !LABEL_NAME.test(name)) return false;
  return parts.length === 1 || (parts[0].length <= 253 && DNS_SUBDOMAIN.test(parts[0]));
}

function isLabelValue(value: string): boolean {
  return value === '' || (value.length <= 63 && LABEL_NAME.test(value));
}

function checkName(c: Checker, kind: Kind, value: unknown, path: FieldPath): string | undefined {
  if (value === undefined || value === null || value === '') {
    c.report(path, IssueCode.MISSING_FIELD, 'metadata.name is required');
    return undefined;
  }
  const name = c.string(value, path);
  if (name === undefined) return undefined;
  const [rule, max, what] =
    kind === 'Tier'
      ? [TIER_NAME, 63, 'lower-case letters, digits and inner "-"']
      : kind === 'GlobalNetworkPolicy'
        ? [POLICY_NAME, 253, 'lower-case letters, digits, inner "-" and at most one "."']
        : [DNS_SUBDOMAIN, 253, 'lower-case letters, digits, inner "-" and "."'];
  if (name.length > max || !rule.test(name)) {
    c.report(path, IssueCode.BAD_NAME, `${showValue(name)} is not a valid ${kind} name (${what}, at most ${max} characters)`, name);
  }
  return name;
}

function checkLabels(c: Checker, value: unknown, path: FieldPath): Record<string, string> | undefined {
  const labels = c.stringMap(value, path);
  if (!labels) return undefined;
  for (const [key, val] of Object.entries(labels)) {
    if (!isQualifiedName(key)) {
      c.report([...path, key], IssueCode.BAD_LABEL, `${showValue(key)} is not a label name ([prefix/]name, name up to 63 of A-Z a-z 0-9 - _ .)`, key, true);
    }
    if (!isLabelValue(val)) {
      c.report([...path, key], IssueCode.BAD_LABEL, `${showValue(val)} is not a label value (up to 63 of A-Z a-z 0-9 - _ ., alphanumeric at both ends)`, val);
    }
  }
  return labels;
}

function checkAnnotations(c: Checker, value: unknown, path: FieldPath): Record<string, string> | undefined {
  const annotations = c.stringMap(value, path);
  if (!annotations) return undefined;
  let bytes = 0;
  for (const [key, val] of Object.entries(annotations)) {
    if (!isQualifiedName(key.toLowerCase())) {
      c.report([...path, key], IssueCode.BAD_ANNOTATION, `${showValue(key)} is not an annotation name ([prefix/]name)`, key, true);
    }
    bytes += Buffer.byteLength(key) + Buffer.byteLength(val);
  }
  if (bytes > MAX_ANNOTATIONS_BYTES) {
    c.report(path, IssueCode.BAD_ANNOTATION, `annotations total ${bytes} bytes, more than ${MAX_ANNOTATIONS_BYTES}`, bytes);
  }
  return annotations;
}

function checkMetadata(c: Checker, kind: Kind, value: unknown): Metadata {
  const path = ['metadata'];
  const obj = c.mapping(value, path);
  if (!obj) {
    if (value === undefined || value === null) c.report(path, IssueCode.MISSING_FIELD, 'metadata.name is required');
    return { name: '' };
  }
  c.fields(obj, path, [...METADATA_FIELDS, ...METADATA_IGNORED], METADATA_UNSUPPORTED);
  const metadata: Metadata = { name: checkName(c, kind, obj.name, [...path, 'name']) ?? '' };
  const labels = checkLabels(c, obj.labels, [...path, 'labels']);
  if (labels && Object.keys(labels).length) metadata.labels = labels;
  const annotations = checkAnnotations(c, obj.annotations, [...path, 'annotations']);
  if (annotations && Object.keys(annotations).length) metadata.annotations = annotations;
  return metadata;
}

/** Nets of a GlobalNetworkSet: may hold a million entries, so one tight loop, no per-entry objects. */
function checkSetNets(c: Checker, value: unknown, path: FieldPath): string[] | undefined {
  const list = c.list(value, path);
  if (!list) return undefined;
  const out: string[] = [];
  for (let i = 0; i < list.length; i++) {
    const item = list[i];
    if (typeof item !== 'string') {
      c.report([...path, i], IssueCode.BAD_TYPE, `${showValue(item)} is not a CIDR string`, item);
      continue;
    }
    try {
      out.push(canonicalCidr(item).text);
    } catch (err) {
      if (!(err instanceof NetError)) throw err;
      c.report([...path, i], IssueCode.BAD_CIDR, `${showValue(item)} is not a CIDR: ${err.reason}`, item);
    }
  }
  return out;
}

function checkNetworkSetSpec(c: Checker, value: unknown, labels: Metadata['labels']): GlobalNetworkSetSpec {
  if (labels && RESERVED_NETWORK_SET_LABEL in labels) {
    c.report(['metadata', 'labels', RESERVED_NETWORK_SET_LABEL], IssueCode.BAD_LABEL, `${RESERVED_NETWORK_SET_LABEL} is reserved by Calico`, undefined, true);
  }
  const obj = c.mapping(value, ['spec']);
  if (!obj) return {};
  c.fields(obj, ['spec'], ['nets']);
  const nets = checkSetNets(c, obj.nets, ['spec', 'nets']);
  return nets ? { nets } : {};
}

function checkTierSpec(c: Checker, value: unknown, name: string): TierSpec {
  const obj = c.mapping(value, ['spec']) ?? {};
  c.fields(obj, ['spec'], ['order', 'defaultAction']);
  const spec: TierSpec = {};
  const order = c.number(obj.order, ['spec', 'order']);
  if (order !== undefined) spec.order = order;
  // libcalico-go validateTier and tier.go: the default tier is pinned at order 1,000,000, action Deny.
  if (name === 'default' && order !== 1_000_000) {
    c.report(['spec', 'order'], IssueCode.BAD_ORDER, 'the default tier must have order 1000000', obj.order);
  }
  const action = obj.defaultAction ?? 'Deny';
  if (action === 'Deny' || action === 'Pass') spec.defaultAction = action;
  else c.report(['spec', 'defaultAction'], IssueCode.BAD_DEFAULT_ACTION, `${showValue(action)} is not a tier defaultAction (Deny or Pass)`, action);
  if (name === 'default' && action === 'Pass') {
    c.report(['spec', 'defaultAction'], IssueCode.BAD_DEFAULT_ACTION, 'the default tier must have defaultAction Deny', action);
  }
  return spec;
}

function unsupported(c: Checker, options: ValidateOptions, path: FieldPath, code: IssueCode, message: string, value: unknown): DocumentOutcome {
  const finding: Finding = { path, code, message, value };
  if (options.skipUnsupported) return { findings: [], skipped: finding };
  c.findings.push(finding);
  return { findings: c.findings };
}

function objectName(kind: unknown, metadata: unknown): string | undefined {
  const name = isMapping(metadata) ? metadata.name : undefined;
  return typeof kind === 'string' && typeof name === 'string' && name ? `${kind}/${name}` : undefined;
}

function checkSpec(c: Checker, kind: Kind, doc: Mapping, metadata: Metadata): Resource['spec'] | undefined {
  switch (kind) {
    case 'GlobalNetworkPolicy':
      return checkPolicySpec(c, doc.spec ?? {}, ['spec']);
    case 'HostEndpoint':
      return checkHostEndpointSpec(c, doc.spec, ['spec']);
    case 'GlobalNetworkSet':
      return checkNetworkSetSpec(c, doc.spec, metadata.labels);
    case 'Tier':
      return checkTierSpec(c, doc.spec, metadata.name);
  }
}

/** Validates one decoded document (already taken out of any List). */
export function validateDocument(doc: unknown, options: ValidateOptions = {}): DocumentOutcome {
  const c = new Checker();
  if (!isMapping(doc)) {
    c.report([], IssueCode.NOT_OBJECT, `a resource is a mapping with apiVersion, kind, metadata and spec, not ${showValue(doc)}`);
    return { findings: c.findings };
  }
  const object = objectName(doc.kind, doc.metadata);
  const withObject = (o: DocumentOutcome): DocumentOutcome => (object ? { object, ...o } : o);
  if (doc.apiVersion == null || doc.kind == null) {
    for (const f of ['apiVersion', 'kind'] as const) {
      if (doc[f] == null) c.report([], IssueCode.MISSING_FIELD, `${f} is required`);
    }
    return withObject({ findings: c.findings });
  }
  if (doc.apiVersion !== API_VERSION) {
    return withObject(unsupported(c, options, ['apiVersion'], IssueCode.BAD_API_VERSION,
      `apiVersion ${showValue(doc.apiVersion)} is not supported: flockguard reads ${API_VERSION} resources`, doc.apiVersion));
  }
  if (!KINDS.includes(doc.kind as Kind)) {
    return withObject(unsupported(c, options, ['kind'], IssueCode.UNSUPPORTED_KIND,
      `kind ${showValue(doc.kind)} is not supported: flockguard enforces ${KINDS.join(', ')}`, doc.kind));
  }
  const kind = doc.kind as Kind;
  if (kind === 'GlobalNetworkPolicy' && !isPreDnat(doc)) {
    const path = isMapping(doc.spec) && doc.spec.preDNAT !== undefined ? ['spec', 'preDNAT'] : ['spec'];
    const message = 'flockguard enforces only pre-DNAT policy: set spec.preDNAT: true (with applyOnForward: true), or skip unsupported resources';
    if (options.skipUnsupported) return withObject(unsupported(c, options, path, IssueCode.NOT_PREDNAT, message, undefined));
    c.report(path, IssueCode.NOT_PREDNAT, message);
  }
  c.fields(doc, [], DOCUMENT_FIELDS);
  const metadata = checkMetadata(c, kind, doc.metadata);
  const spec = checkSpec(c, kind, doc, metadata);
  if (c.suppressed) {
    c.findings.push({ path: [], code: IssueCode.MORE_ISSUES, message: `${c.suppressed} more issues in this document are not listed`, value: c.suppressed });
  }
  if (c.failed || !spec) return withObject({ findings: c.findings });
  return withObject({ resource: { apiVersion: API_VERSION, kind, metadata, spec } as Resource, findings: [] });
}
