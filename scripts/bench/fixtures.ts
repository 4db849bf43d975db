// The benchmark's policies: one GlobalNetworkSet of N IPv4 prefixes and a policy of 1,000 rules (a
// Deny from the set, then Allow rules on ports that the traffic does not use), and the same table as
// nft text for the nft peer.

/** The i-th prefix: every other /24 from 1.0.0.0 up, so that no two are adjacent and none merge. */
export function prefix(i: number): string {
  const x = 2 * i;
  return `${1 + (x >> 16)}.${(x >> 8) & 255}.${x & 255}.0/24`;
}

/** Outside every prefix(i) for i < 8,000,000 (they end below 124.0.0.0). */
export const CHANGED_PREFIX = '198.18.0.0/24';
export const NETSET_PREFIX = '198.18.2.0/24';
export const NFT_ELEMENT_PREFIX = '198.18.4.0/24';
/** Revision k of the store test adds this prefix. */
export const storePrefix = (k: number): string => `198.19.${k}.0/24`;

export const SET_NAME = 'big';
export const NODE_NAME = 'bench';

export interface PolicyShape {
  prefixes: number;
  /** Rules in the policy: the Deny from the set counts as one when prefixes > 0. */
  rules: number;
  /** Replace prefix 0 by CHANGED_PREFIX (the "one prefix changed" manifest). */
  changed?: boolean;
  iface?: string;
  expectedIPs?: string[];
  /** A last rule allowing this TCP port (the packet test's traffic). */
  allowPort?: number;
}

export function netsFor(shape: PolicyShape): string[] {
  const nets = Array.from({ length: shape.prefixes }, (_, i) => prefix(i));
  if (shape.changed && nets.length > 0) nets[0] = CHANGED_PREFIX;
  return nets;
}

/** Calico documents as JSON, joined by `---` (the CLI reads them as YAML streams). */
export function policyText(shape: PolicyShape): string {
  const ingress: unknown[] = [];
  if (shape.prefixes > 0) ingress.push({ action: 'Deny', source: { selector: `list == '${SET_NAME}'` } });
  const allows = shape.rules - ingress.length - (shape.allowPort === undefined ? 0 : 1);
  for (let i = 0; i < allows; i++) ingress.push({ action: 'Allow', protocol: 'TCP', destination: { ports: [1024 + i] } });
  if (shape.allowPort !== undefined) ingress.push({ action: 'Allow', protocol: 'TCP', destination: { ports: [shape.allowPort] } });
  const docs: unknown[] = [
    { apiVersion: 'projectcalico.org/v3', kind: 'HostEndpoint', metadata: { name: 'bench-if', labels: { role: 'bench' } },
      spec: { node: NODE_NAME, interfaceName: shape.iface ?? 'lo', expectedIPs: shape.expectedIPs ?? ['127.0.0.1'] } },
  ];
  if (shape.prefixes > 0) {
    docs.push({ apiVersion: 'projectcalico.org/v3', kind: 'GlobalNetworkSet', metadata: { name: SET_NAME, labels: { list: SET_NAME } },
      spec: { nets: netsFor(shape) } });
  }
  docs.push({ apiVersion: 'projectcalico.org/v3', kind: 'GlobalNetworkPolicy', metadata: { name: 'bench' },
    spec: { selector: "role == 'bench'", preDNAT: true, applyOnForward: true, order: 10, types: ['Ingress'], ingress } });
  return docs.map((d) => JSON.stringify(d)).join('\n---\n') + '\n';
}

const SET_BLOCK = /(\tset (\S+) \{[^}]*?flags interval[^}]*?elements = \{)[^}]*(\})/;

/** The interval set that holds the GlobalNetworkSet in `nft list table` output of our table. */
export function intervalSetName(listing: string): string {
  const m = SET_BLOCK.exec(listing);
  if (!m) throw new Error('no interval set with elements in the listing of our table');
  return m[2]!;
}

/**
 * The nft text of our table for another set of nets: `nft list table inet flockguard` of our table
 * as installed for a small GlobalNetworkSet (rules and chains do not depend on the set's size), with
 * the set's elements replaced. The suite checks that nft -f of this text lists exactly as our table.
 */
export function nftTextFor(template: string, nets: string[]): string {
  if (!SET_BLOCK.test(template)) throw new Error('no interval set with elements in the listing of our table');
  return template.replace(SET_BLOCK, (_all, head: string, _name: string, tail: string) => `${head} ${nets.join(',\n\t\t\t')} ${tail}`);
}

/** The same text, as one transaction that replaces whatever table of that name exists (a full reload). */
export function nftReloadText(tableText: string): string {
  return `table inet flockguard {}\ndelete table inet flockguard\n${tableText}`;
}
