// Kind names as users type them (calicoctl's and kubectl's forms) and as the CLI prints them.
import { KINDS, type Kind } from '../policy/model';
import { UsageError } from './io';

const ALIASES: Record<string, Kind> = {
  globalnetworkpolicy: 'GlobalNetworkPolicy',
  globalnetworkpolicies: 'GlobalNetworkPolicy',
  gnp: 'GlobalNetworkPolicy',
  hostendpoint: 'HostEndpoint',
  hostendpoints: 'HostEndpoint',
  hep: 'HostEndpoint',
  heps: 'HostEndpoint',
  globalnetworkset: 'GlobalNetworkSet',
  globalnetworksets: 'GlobalNetworkSet',
  gns: 'GlobalNetworkSet',
  tier: 'Tier',
  tiers: 'Tier',
};

/** "gnp", "GlobalNetworkPolicy", "globalnetworkpolicy.projectcalico.org" -> "GlobalNetworkPolicy". */
export function resolveKind(text: string, command: string): Kind {
  const key = text.toLowerCase().replace(/\.projectcalico\.org$/, '');
  const kind = ALIASES[key];
  if (!kind) {
    throw new UsageError(
      `${command}: unknown kind ${JSON.stringify(text)}; use one of: globalnetworkpolicy (gnp), hostendpoint (hep), globalnetworkset (gns), tier`,
      command,
    );
  }
  return kind;
}

/** kubectl's object reference: "globalnetworkpolicy.projectcalico.org/allow-web". */
export function objectRef(kind: string, name: string): string {
  return `${kind.toLowerCase()}.projectcalico.org/${name}`;
}

/** Kinds in the order `get all` lists them. */
export const ALL_KINDS: readonly Kind[] = KINDS;
