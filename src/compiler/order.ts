// Which pre-DNAT policies apply to a HostEndpoint, in Calico's evaluation order: tiers by order
// (lowest first), then policies by order (a missing order is infinite, i.e. last), then by name
// (calico api globalnetworkpolicy.go and tier.go comments).
import { GlobalNetworkPolicy, HostEndpoint, Tier } from '../policy/model';
import { byString } from './names';
import { Resolver } from './resolver';

/** Orders of Calico's well-known tiers, used when no Tier resource names them. */
const WELL_KNOWN_TIER_ORDER: Record<string, number> = { 'kube-admin': 1000, default: 1_000_000, 'kube-baseline': 10_000_000 };

export interface TierPolicies {
  tier: string;
  policies: GlobalNetworkPolicy[];
}

export function tierOf(p: GlobalNetworkPolicy): string {
  return p.spec.tier || 'default';
}

/** Pre-DNAT ingress policies only: normal, untracked and egress-only policies are not ours to enforce. */
export function isPreDnatIngress(p: GlobalNetworkPolicy): boolean {
  if (p.spec.preDNAT !== true || p.spec.doNotTrack === true) return false;
  const types = p.spec.types ?? (p.spec.ingress?.length || !p.spec.egress?.length ? ['Ingress'] : ['Egress']);
  return types.includes('Ingress');
}

export class PolicyOrder {
  private readonly tierOrder = new Map<string, number>();

  constructor(
    tiers: readonly Tier[],
    private readonly policies: readonly GlobalNetworkPolicy[],
    private readonly resolver: Resolver,
  ) {
    for (const t of tiers) this.tierOrder.set(t.metadata.name, t.spec.order ?? Infinity);
  }

  /** The tiers that have policies selecting the endpoint, each with its policies in order. */
  forEndpoint(hep: HostEndpoint): TierPolicies[] {
    const labels = hep.metadata.labels ?? {};
    const byTier = new Map<string, GlobalNetworkPolicy[]>();
    for (const p of this.policies) {
      const sel = this.resolver.selector(p.spec.selector, { object: `GlobalNetworkPolicy/${p.metadata.name}`, field: 'spec.selector' });
      if (!sel.matches(labels)) continue;
      const list = byTier.get(tierOf(p)) ?? [];
      list.push(p);
      byTier.set(tierOf(p), list);
    }
    return [...byTier.entries()]
      .sort(([a], [b]) => this.compareTiers(a, b))
      .map(([tier, policies]) => ({ tier, policies: policies.sort(comparePolicies) }));
  }

  private compareTiers(a: string, b: string): number {
    return numberOrder(this.orderOfTier(a), this.orderOfTier(b)) || byString(a, b);
  }

  private orderOfTier(name: string): number {
    return this.tierOrder.get(name) ?? WELL_KNOWN_TIER_ORDER[name] ?? Infinity;
  }
}

function numberOrder(a: number, b: number): number {
  return a === b ? 0 : a < b ? -1 : 1;
}

function comparePolicies(a: GlobalNetworkPolicy, b: GlobalNetworkPolicy): number {
  return numberOrder(a.spec.order ?? Infinity, b.spec.order ?? Infinity) || byString(a.metadata.name, b.metadata.name);
}
