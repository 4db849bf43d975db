// The policy model: Calico projectcalico.org/v3 resources as flockguard accepts them, after parsing
// and validation (src/policy/parse.ts, validate.ts). Field names are Calico's. The compiler
// (src/compiler) and the store (src/store) consume these types.

export const API_VERSION = 'projectcalico.org/v3';

export type Kind = 'GlobalNetworkPolicy' | 'HostEndpoint' | 'GlobalNetworkSet' | 'Tier';
export const KINDS: readonly Kind[] = ['GlobalNetworkPolicy', 'HostEndpoint', 'GlobalNetworkSet', 'Tier'];

export interface Metadata {
  name: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export type Action = 'Allow' | 'Deny' | 'Log' | 'Pass';

/** A protocol as written: a name (TCP, UDP, ICMP, ICMPv6, SCTP, UDPLite) or a number 1-255. */
export type Protocol = string | number;

/** A port as written: a number, "a:b", or a named port. */
export type Port = number | string;

export interface IcmpMatch {
  type?: number;
  code?: number;
}

export interface EntityRule {
  nets?: string[];
  notNets?: string[];
  ports?: Port[];
  notPorts?: Port[];
  selector?: string;
  notSelector?: string;
}

export interface Rule {
  action: Action;
  protocol?: Protocol;
  notProtocol?: Protocol;
  ipVersion?: 4 | 6;
  icmp?: IcmpMatch;
  notICMP?: IcmpMatch;
  source?: EntityRule;
  destination?: EntityRule;
  metadata?: { annotations?: Record<string, string> };
}

export interface GlobalNetworkPolicySpec {
  tier?: string;
  order?: number;
  selector?: string;
  types?: Array<'Ingress' | 'Egress'>;
  ingress?: Rule[];
  egress?: Rule[];
  preDNAT?: boolean;
  applyOnForward?: boolean;
  doNotTrack?: boolean;
}

export interface EndpointPort {
  name: string;
  protocol: 'TCP' | 'UDP' | 'SCTP';
  port: number;
}

export interface HostEndpointSpec {
  node: string;
  interfaceName?: string;
  expectedIPs?: string[];
  ports?: EndpointPort[];
  profiles?: string[];
}

export interface GlobalNetworkSetSpec {
  nets?: string[];
}

export interface TierSpec {
  order?: number;
  defaultAction?: 'Deny' | 'Pass';
}

interface ResourceOf<K extends Kind, S> {
  apiVersion: typeof API_VERSION;
  kind: K;
  metadata: Metadata;
  spec: S;
}

export type GlobalNetworkPolicy = ResourceOf<'GlobalNetworkPolicy', GlobalNetworkPolicySpec>;
export type HostEndpoint = ResourceOf<'HostEndpoint', HostEndpointSpec>;
export type GlobalNetworkSet = ResourceOf<'GlobalNetworkSet', GlobalNetworkSetSpec>;
export type Tier = ResourceOf<'Tier', TierSpec>;
export type Resource = GlobalNetworkPolicy | HostEndpoint | GlobalNetworkSet | Tier;

/** The key of a resource: kind and name are unique together. */
export function resourceKey(r: { kind: string; metadata: { name: string } }): string {
  return `${r.kind}/${r.metadata.name}`;
}

/** Where a value came from in a source file, for error messages. */
export interface SourcePosition {
  file?: string;
  line?: number;
  column?: number;
}

/** One validation or parse error: the document, the field path, the bad value, the position. */
export interface PolicyIssue {
  /** "GlobalNetworkPolicy/allow-web", or "document 3" when the kind or name is unknown. */
  object: string;
  /** Field path in the document, "spec.ingress[0].destination.ports[1]". */
  field: string;
  value?: unknown;
  message: string;
  position?: SourcePosition;
  /** Stable error code, "POLICY_NOT_PREDNAT" say. */
  code: string;
}

/** The full desired state: every accepted resource, one revision. */
export interface PolicySet {
  resources: Resource[];
}
