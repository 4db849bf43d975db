// GlobalNetworkPolicy spec validation (api/.../globalnetworkpolicy.go; the CRD's CEL rules and
// libcalico-go validateGlobalNetworkPolicySpec). flockguard enforces pre-DNAT policy only, so the
// pre-DNAT constraints are checked here and the caller refuses (or skips) anything else.
import { Checker, isMapping } from './check';
import { FieldPath, IssueCode, showValue } from './issues';
import { GlobalNetworkPolicySpec, Rule } from './model';
import { checkRule, checkSelector } from './validate-rule';

const SPEC_FIELDS = ['tier', 'order', 'selector', 'types', 'ingress', 'egress', 'preDNAT', 'applyOnForward', 'doNotTrack'];
const SPEC_UNSUPPORTED = ['serviceAccountSelector', 'namespaceSelector', 'performanceHints'];
const POLICY_TYPES = ['Ingress', 'Egress'] as const;
type PolicyType = (typeof POLICY_TYPES)[number];

/** Calico's CRD limit on rules per direction. */
export const MAX_RULES = 1024;
export const DEFAULT_TIER = 'default';
/** A tier name is a DNS-1123 label (tierNameRegex): it is part of other names. */
export const TIER_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** Whether a raw document's spec asks for pre-DNAT enforcement. */
export function isPreDnat(doc: Record<string, unknown>): boolean {
  return isMapping(doc.spec) && doc.spec.preDNAT === true;
}

function checkRules(c: Checker, value: unknown, path: FieldPath): Rule[] | undefined {
  const list = c.list(value, path);
  if (!list) return undefined;
  if (list.length > MAX_RULES) c.report(path, IssueCode.TOO_MANY, `${list.length} rules, at most ${MAX_RULES} are allowed`, list.length);
  const rules: Rule[] = [];
  list.forEach((item, i) => {
    const rule = checkRule(c, item, [...path, i]);
    if (rule) rules.push(rule);
  });
  return rules;
}

function checkTypes(c: Checker, value: unknown, path: FieldPath, preDnat: boolean): PolicyType[] | undefined {
  const list = c.list(value, path);
  if (!list) return undefined;
  const types: PolicyType[] = [];
  list.forEach((item, i) => {
    if (!POLICY_TYPES.includes(item as PolicyType)) {
      c.report([...path, i], IssueCode.BAD_TYPES, `${showValue(item)} is not a policy type (Ingress or Egress)`, item);
    } else if (types.includes(item as PolicyType)) {
      c.report([...path, i], IssueCode.BAD_TYPES, `"${item}" type specified more than once`, item);
    } else if (item === 'Egress' && preDnat) {
      c.report([...path, i], IssueCode.PREDNAT_EGRESS, "preDNAT policy cannot have 'Egress' type", item);
    } else {
      types.push(item as PolicyType);
    }
  });
  return types;
}

/** Calico's default: Ingress when there are no egress rules, Egress alone, or both. */
function defaultTypes(ingress: Rule[] | undefined, egress: Rule[] | undefined): PolicyType[] {
  if (!egress?.length) return ['Ingress'];
  return ingress?.length ? ['Ingress', 'Egress'] : ['Egress'];
}

export function checkPolicySpec(c: Checker, value: unknown, path: FieldPath): GlobalNetworkPolicySpec | undefined {
  const obj = c.mapping(value, path);
  if (!obj) return undefined;
  c.fields(obj, path, SPEC_FIELDS, SPEC_UNSUPPORTED);
  const at = (f: string): FieldPath => [...path, f];
  const preDnat = c.boolean(obj.preDNAT, at('preDNAT')) ?? false;
  const applyOnForward = c.boolean(obj.applyOnForward, at('applyOnForward')) ?? false;
  const doNotTrack = c.boolean(obj.doNotTrack, at('doNotTrack')) ?? false;
  if (preDnat && !applyOnForward) {
    c.report(obj.applyOnForward === undefined ? path : at('applyOnForward'), IssueCode.PREDNAT_APPLY_ON_FORWARD,
      'applyOnForward must be true when preDNAT is true', obj.applyOnForward);
  }
  if (preDnat && doNotTrack) {
    c.report(at('doNotTrack'), IssueCode.PREDNAT_DO_NOT_TRACK, 'preDNAT and doNotTrack cannot both be true', true);
  }

  const spec: GlobalNetworkPolicySpec = {};
  const tier = c.string(obj.tier, at('tier'));
  if (tier !== undefined && tier !== '' && !TIER_NAME.test(tier)) {
    c.report(at('tier'), IssueCode.BAD_NAME, `${showValue(tier)} is not a tier name (lower-case letters, digits and inner "-")`, tier);
  }
  spec.tier = tier || DEFAULT_TIER;
  const order = c.number(obj.order, at('order'));
  if (order !== undefined) spec.order = order;
  const selector = checkSelector(c, obj.selector, at('selector'));
  if (selector) spec.selector = selector; // '' means all(), as an absent selector does

  const ingress = checkRules(c, obj.ingress, at('ingress'));
  let egress: Rule[] | undefined;
  if (preDnat) {
    const raw = c.list(obj.egress, at('egress'));
    if (raw?.length) c.report(at('egress'), IssueCode.PREDNAT_EGRESS, 'preDNAT policy cannot have any egress rules', raw.length);
  } else {
    egress = checkRules(c, obj.egress, at('egress'));
  }
  const types = checkTypes(c, obj.types, at('types'), preDnat);
  spec.types = types?.length ? types : defaultTypes(ingress, egress);
  if (ingress?.length) spec.ingress = ingress;
  if (egress?.length) spec.egress = egress;
  spec.preDNAT = preDnat;
  spec.applyOnForward = applyOnForward;
  if (doNotTrack) spec.doNotTrack = true;
  return spec;
}
