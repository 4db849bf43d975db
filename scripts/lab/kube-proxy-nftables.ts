// kube-proxy's nftables-mode ruleset for the lab's Service, written the way kube-proxy writes it:
// the `add ...` transaction that knftables feeds to `nft -f`. Layout, names, comments and rule text
// follow kubernetes pkg/proxy/nftables/proxier.go and the expected dumps in its proxier_test.go
// (commit 81810de6, after PR #132456: filter-prerouting-pre-dnat at -110, filter-input/forward/output
// at 0). nodePortAddresses is kube-proxy's nftables default, "primary": only the node's eth0 address.
import { nftEndpointChainBase, nftServiceChainBase } from './kube-proxy-names';
import type { FamilyPlan, ServicePortSpec, ServiceSpec } from './plan';

const TABLE = 'kube-proxy';
const MASQUERADE_MARK = '0x4000';

interface FamilyWords {
  family: 'ip' | 'ip6';
  addrType: 'ipv4_addr' | 'ipv6_addr';
  /** The payload keyword for addresses: `ip daddr` / `ip6 daddr`. */
  l3: 'ip' | 'ip6';
}

function familyWords(plan: FamilyPlan): FamilyWords {
  return plan.family === 4
    ? { family: 'ip', addrType: 'ipv4_addr', l3: 'ip' }
    : { family: 'ip6', addrType: 'ipv6_addr', l3: 'ip6' };
}

function dnatTarget(ip: string, port: number): string {
  return ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`;
}

/** The table, sets, maps, base chains and fixed helper chains of proxier.go setupNFTables. */
function baseRules(w: FamilyWords, plan: FamilyPlan): string[] {
  const t = `${w.family} ${TABLE}`;
  const keyed = `${w.addrType} . inet_proto . inet_service : verdict`;
  return [
    `add table ${t} { comment "rules for kube-proxy" ; }`,
    `add set ${t} cluster-ips { type ${w.addrType} ; comment "Active ClusterIPs" ; }`,
    `add set ${t} nodeport-ips { type ${w.addrType} ; comment "IPs that accept NodePort traffic" ; }`,
    `add map ${t} firewall-ips { type ${keyed} ; comment "destinations that are subject to LoadBalancerSourceRanges" ; }`,
    `add map ${t} no-endpoint-nodeports { type inet_proto . inet_service : verdict ; comment "vmap to drop or reject packets to service nodeports with no endpoints" ; }`,
    `add map ${t} no-endpoint-services { type ${keyed} ; comment "vmap to drop or reject packets to services with no endpoints" ; }`,
    `add map ${t} service-ips { type ${keyed} ; comment "ClusterIP, ExternalIP and LoadBalancer IP traffic" ; }`,
    `add map ${t} service-nodeports { type inet_proto . inet_service : verdict ; comment "NodePort traffic" ; }`,
    `add chain ${t} cluster-ips-check`,
    `add chain ${t} filter-prerouting-pre-dnat { type filter hook prerouting priority -110 ; }`,
    `add chain ${t} filter-output-pre-dnat { type filter hook output priority -110 ; }`,
    `add chain ${t} filter-forward { type filter hook forward priority 0 ; }`,
    `add chain ${t} filter-input { type filter hook input priority 0 ; }`,
    `add chain ${t} filter-output { type filter hook output priority 0 ; }`,
    `add chain ${t} firewall-check`,
    `add chain ${t} mark-for-masquerade`,
    `add chain ${t} masquerading`,
    `add chain ${t} nat-output { type nat hook output priority -100 ; }`,
    `add chain ${t} nat-postrouting { type nat hook postrouting priority 100 ; }`,
    `add chain ${t} nat-prerouting { type nat hook prerouting priority -100 ; }`,
    `add chain ${t} nodeport-endpoints-check`,
    `add chain ${t} reject-chain { comment "helper for @no-endpoint-services / @no-endpoint-nodeports" ; }`,
    `add chain ${t} services`,
    `add chain ${t} service-endpoints-check`,
    `add rule ${t} cluster-ips-check ${w.l3} daddr @cluster-ips reject comment "Reject traffic to invalid ports of ClusterIPs"`,
    `add rule ${t} cluster-ips-check ${w.l3} daddr { ${plan.serviceCidr} } drop comment "Drop traffic to unallocated ClusterIPs"`,
    `add rule ${t} filter-prerouting-pre-dnat ct state new jump firewall-check`,
    `add rule ${t} filter-forward ct state new jump service-endpoints-check`,
    `add rule ${t} filter-forward ct state new jump cluster-ips-check`,
    `add rule ${t} filter-input ct state new jump nodeport-endpoints-check`,
    `add rule ${t} filter-input ct state new jump service-endpoints-check`,
    `add rule ${t} filter-output ct state new jump service-endpoints-check`,
    `add rule ${t} filter-output-pre-dnat ct state new jump firewall-check`,
    `add rule ${t} filter-output ct state new jump cluster-ips-check`,
    `add rule ${t} firewall-check ${w.l3} daddr . meta l4proto . th dport vmap @firewall-ips`,
    `add rule ${t} mark-for-masquerade mark set mark or ${MASQUERADE_MARK}`,
    `add rule ${t} masquerading mark and ${MASQUERADE_MARK} == 0 return`,
    `add rule ${t} masquerading mark set mark xor ${MASQUERADE_MARK}`,
    `add rule ${t} masquerading masquerade fully-random`,
    `add rule ${t} nat-output jump services`,
    `add rule ${t} nat-postrouting jump masquerading`,
    `add rule ${t} nat-prerouting jump services`,
    `add rule ${t} nodeport-endpoints-check ${w.l3} daddr @nodeport-ips meta l4proto . th dport vmap @no-endpoint-nodeports`,
    `add rule ${t} reject-chain reject`,
    `add rule ${t} services ${w.l3} daddr . meta l4proto . th dport vmap @service-ips`,
    `add rule ${t} services ${w.l3} daddr @nodeport-ips meta l4proto . th dport vmap @service-nodeports`,
    `add element ${t} nodeport-ips { ${plan.nodeIP} }`,
    `add rule ${t} service-endpoints-check ${w.l3} daddr . meta l4proto . th dport vmap @no-endpoint-services`,
  ];
}

/** The per-service-port chains and map elements (proxier.go syncProxyRules), one local endpoint. */
function servicePortRules(w: FamilyWords, plan: FamilyPlan, svc: ServiceSpec, sp: ServicePortSpec): string[] {
  const t = `${w.family} ${TABLE}`;
  const base = nftServiceChainBase(sp);
  const serviceChain = `service-${base}`;
  const externalChain = `external-${base}`;
  const localChain = `local-${base}`;
  const endpointChain = `endpoint-${nftEndpointChainBase(sp, plan.podIP, sp.targetPort)}`;
  const pick = `numgen random mod 1 vmap { 0 : goto ${endpointChain} }`;
  const lines = [
    `add chain ${t} ${serviceChain}`,
    `add rule ${t} ${serviceChain} ${w.l3} daddr ${plan.clusterIP} ${w.l3} saddr != ${plan.podCidr} jump mark-for-masquerade`,
    `add rule ${t} ${serviceChain} ${pick}`,
    `add chain ${t} ${externalChain}`,
  ];
  if (svc.externalTrafficPolicy === 'Cluster') {
    lines.push(
      `add rule ${t} ${externalChain} jump mark-for-masquerade`,
      `add rule ${t} ${externalChain} goto ${serviceChain}`,
    );
  } else {
    lines.push(
      `add rule ${t} ${externalChain} ${w.l3} saddr ${plan.podCidr} goto ${serviceChain} comment "short-circuit pod traffic"`,
      `add rule ${t} ${externalChain} fib saddr type local jump mark-for-masquerade comment "masquerade local traffic"`,
      `add rule ${t} ${externalChain} fib saddr type local goto ${serviceChain} comment "short-circuit local traffic"`,
      `add rule ${t} ${externalChain} goto ${localChain}`,
      `add chain ${t} ${localChain}`,
      `add rule ${t} ${localChain} ${pick}`,
    );
  }
  lines.push(
    `add chain ${t} ${endpointChain}`,
    `add rule ${t} ${endpointChain} ${w.l3} saddr ${plan.podIP} jump mark-for-masquerade`,
    `add rule ${t} ${endpointChain} meta l4proto ${sp.protocol} dnat to ${dnatTarget(plan.podIP, sp.targetPort)}`,
    `add element ${t} cluster-ips { ${plan.clusterIP} }`,
    `add element ${t} service-ips { ${plan.clusterIP} . ${sp.protocol} . ${sp.port} : goto ${serviceChain} }`,
    `add element ${t} service-ips { ${plan.externalIP} . ${sp.protocol} . ${sp.port} : goto ${externalChain} }`,
    `add element ${t} service-ips { ${plan.loadBalancerIP} . ${sp.protocol} . ${sp.port} : goto ${externalChain} }`,
    `add element ${t} service-nodeports { ${sp.protocol} . ${sp.nodePort} : goto ${externalChain} }`,
  );
  return lines;
}

const DECLARATION = /^add (table|set|map|chain) /;

/**
 * The whole kube-proxy transaction for one family, ready for `nft -f -` in the node namespace.
 * Declarations come first because nft resolves a `goto` target when it parses the rule, and a
 * service chain's vmap names endpoint chains declared further down.
 */
export function renderKubeProxyNftables(plan: FamilyPlan, svc: ServiceSpec): string {
  const w = familyWords(plan);
  const lines = baseRules(w, plan);
  for (const sp of svc.ports) lines.push(...servicePortRules(w, plan, svc, sp));
  const declarations = lines.filter((l) => DECLARATION.test(l));
  const rest = lines.filter((l) => !DECLARATION.test(l));
  return [...declarations, ...rest].join('\n') + '\n';
}
