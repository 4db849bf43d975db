// Builders for policy tests: valid resources to start from, and a parse of one or more documents.
import { PolicyIssue } from '../../src/policy/model';
import { parsePolicyText, ParseResult } from '../../src/policy/parse';

export type Doc = Record<string, unknown>;

export function policy(spec: Doc = {}, name = 'p'): Doc {
  return {
    apiVersion: 'projectcalico.org/v3',
    kind: 'GlobalNetworkPolicy',
    metadata: { name },
    spec: { preDNAT: true, applyOnForward: true, ...spec },
  };
}

/** A pre-DNAT policy holding one ingress rule. */
export function withRule(rule: Doc): Doc {
  return policy({ ingress: [rule] });
}

export function hostEndpoint(spec: Doc = {}, name = 'h'): Doc {
  return { apiVersion: 'projectcalico.org/v3', kind: 'HostEndpoint', metadata: { name }, spec: { node: 'n1', interfaceName: 'eth0', ...spec } };
}

export function networkSet(nets: unknown, name = 's'): Doc {
  return { apiVersion: 'projectcalico.org/v3', kind: 'GlobalNetworkSet', metadata: { name }, spec: { nets } };
}

export function tier(spec: Doc = {}, name = 't'): Doc {
  return { apiVersion: 'projectcalico.org/v3', kind: 'Tier', metadata: { name }, spec };
}

/** Parses documents given as objects, written as a JSON List so no YAML quirk is involved. */
export function parseDocs(...docs: Doc[]): ParseResult {
  const text = docs.length === 1 ? JSON.stringify(docs[0]) : JSON.stringify({ apiVersion: 'v1', kind: 'List', items: docs });
  return parsePolicyText(text);
}

export function issueSummary(issues: PolicyIssue[]): Array<[code: string, field: string]> {
  return issues.map((i) => [i.code, i.field]);
}

/** Strips the common indentation of a template literal, so YAML can sit indented in a test. */
export function yaml(text: string): string {
  const lines = text.replace(/^\n/, '').split('\n');
  const indent = Math.min(...lines.filter((l) => l.trim()).map((l) => l.length - l.trimStart().length));
  return lines.map((l) => l.slice(indent)).join('\n');
}
