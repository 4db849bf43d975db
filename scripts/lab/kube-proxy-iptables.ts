// kube-proxy's iptables-mode rules for the lab's Service, as kube-proxy writes them through
// iptables-restore (here iptables-nft-restore / ip6tables-nft-restore, the nf_tables backend).
// Chain names, comments and rule order follow kubernetes pkg/proxy/iptables/proxier.go
// (iptablesJumpChains, syncProxyRules) and the expected output of TestOverallIPTablesRules.
// Left out: the nfacct matches on localhost NodePorts and on KUBE-FORWARD's INVALID drop (they need
// nfacct objects that kube-proxy creates over netlink), hence also the 127.0.0.0/8 NodePort rules.
import { iptablesEndpointHash, iptablesServiceHash, servicePortString } from './kube-proxy-names';
import type { FamilyPlan, ServicePortSpec, ServiceSpec } from './plan';

function host(plan: FamilyPlan, ip: string): string {
  return plan.family === 4 ? `${ip}/32` : `${ip}/128`;
}

function dnatTarget(ip: string, port: number): string {
  return ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`;
}

/** Jump rules kube-proxy inserts at the top of the built-in chains (proxier.go iptablesJumpChains). */
const FILTER_JUMPS = [
  '-I INPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes load balancer firewall" -j KUBE-PROXY-FIREWALL',
  '-I INPUT -m comment --comment "kubernetes health check service ports" -j KUBE-NODEPORTS',
  '-I INPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes externally-visible service portals" -j KUBE-EXTERNAL-SERVICES',
  '-I FORWARD -m conntrack --ctstate NEW -m comment --comment "kubernetes load balancer firewall" -j KUBE-PROXY-FIREWALL',
  '-I FORWARD -m comment --comment "kubernetes forwarding rules" -j KUBE-FORWARD',
  '-I FORWARD -m conntrack --ctstate NEW -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
  '-I FORWARD -m conntrack --ctstate NEW -m comment --comment "kubernetes externally-visible service portals" -j KUBE-EXTERNAL-SERVICES',
  '-I OUTPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes load balancer firewall" -j KUBE-PROXY-FIREWALL',
  '-I OUTPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
];

const NAT_JUMPS = [
  '-I OUTPUT -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
  '-I PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
  '-I POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING',
];

function filterTable(): string[] {
  return [
    '*filter',
    ':KUBE-NODEPORTS - [0:0]',
    ':KUBE-SERVICES - [0:0]',
    ':KUBE-EXTERNAL-SERVICES - [0:0]',
    ':KUBE-FORWARD - [0:0]',
    ':KUBE-PROXY-FIREWALL - [0:0]',
    ...FILTER_JUMPS,
    '-A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP',
    '-A KUBE-FORWARD -m comment --comment "kubernetes forwarding rules" -m mark --mark 0x4000/0x4000 -j ACCEPT',
    '-A KUBE-FORWARD -m comment --comment "kubernetes forwarding conntrack rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT',
    'COMMIT',
  ];
}

interface PortChains {
  svc: string;
  ext: string;
  sep: string;
  /** KUBE-SVL-: the endpoints local to this node, used by externalTrafficPolicy Local. */
  svl: string;
}

function portChains(plan: FamilyPlan, sp: ServicePortSpec): PortChains {
  const hash = iptablesServiceHash(sp);
  return {
    svc: `KUBE-SVC-${hash}`,
    ext: `KUBE-EXT-${hash}`,
    sep: `KUBE-SEP-${iptablesEndpointHash(sp, plan.podIP, sp.targetPort)}`,
    svl: `KUBE-SVL-${hash}`,
  };
}

function natServiceRules(plan: FamilyPlan, svc: ServiceSpec, sp: ServicePortSpec, c: PortChains): string[] {
  const name = servicePortString(sp);
  const p = `-m ${sp.protocol} -p ${sp.protocol}`;
  const lines = [
    `-A KUBE-NODEPORTS -m comment --comment ${name} ${p} --dport ${sp.nodePort} -j ${c.ext}`,
    `-A KUBE-SERVICES -m comment --comment "${name} cluster IP" ${p} -d ${host(plan, plan.clusterIP)} --dport ${sp.port} -j ${c.svc}`,
    `-A KUBE-SERVICES -m comment --comment "${name} external IP" ${p} -d ${host(plan, plan.externalIP)} --dport ${sp.port} -j ${c.ext}`,
    `-A KUBE-SERVICES -m comment --comment "${name} loadbalancer IP" ${p} -d ${host(plan, plan.loadBalancerIP)} --dport ${sp.port} -j ${c.ext}`,
  ];
  if (svc.externalTrafficPolicy === 'Cluster') {
    lines.push(
      `-A ${c.ext} -m comment --comment "masquerade traffic for ${name} external destinations" -j KUBE-MARK-MASQ`,
      `-A ${c.ext} -j ${c.svc}`,
    );
  } else {
    lines.push(
      `-A ${c.ext} -m comment --comment "pod traffic for ${name} external destinations" -s ${plan.podCidr} -j ${c.svc}`,
      `-A ${c.ext} -m comment --comment "masquerade LOCAL traffic for ${name} external destinations" -m addrtype --src-type LOCAL -j KUBE-MARK-MASQ`,
      `-A ${c.ext} -m comment --comment "route LOCAL traffic for ${name} external destinations" -m addrtype --src-type LOCAL -j ${c.svc}`,
      `-A ${c.ext} -j ${c.svl}`,
      `-A ${c.svl} -m comment --comment "${name} -> ${dnatTarget(plan.podIP, sp.targetPort)}" -j ${c.sep}`,
    );
  }
  lines.push(
    `-A ${c.sep} -m comment --comment ${name} -s ${host(plan, plan.podIP)} -j KUBE-MARK-MASQ`,
    `-A ${c.sep} -m comment --comment ${name} ${p} -j DNAT --to-destination ${dnatTarget(plan.podIP, sp.targetPort)}`,
    `-A ${c.svc} -m comment --comment "${name} cluster IP" ${p} -d ${host(plan, plan.clusterIP)} --dport ${sp.port} ! -s ${plan.podCidr} -j KUBE-MARK-MASQ`,
    `-A ${c.svc} -m comment --comment "${name} -> ${dnatTarget(plan.podIP, sp.targetPort)}" -j ${c.sep}`,
  );
  return lines;
}

function natTable(plan: FamilyPlan, svc: ServiceSpec): string[] {
  const chains = svc.ports.map((sp) => portChains(plan, sp));
  const declared = ['KUBE-NODEPORTS', 'KUBE-SERVICES', 'KUBE-MARK-MASQ', 'KUBE-POSTROUTING'];
  for (const c of chains) {
    declared.push(c.ext, c.sep, c.svc);
    if (svc.externalTrafficPolicy === 'Local') declared.push(c.svl);
  }
  const lines = ['*nat', ...declared.map((name) => `:${name} - [0:0]`), ...NAT_JUMPS];
  svc.ports.forEach((sp, i) => lines.push(...natServiceRules(plan, svc, sp, chains[i])));
  lines.push(
    '-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS',
    '-A KUBE-MARK-MASQ -j MARK --or-mark 0x4000',
    '-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN',
    '-A KUBE-POSTROUTING -j MARK --xor-mark 0x4000',
    '-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully',
    'COMMIT',
  );
  return lines;
}

/** Input for `iptables-nft-restore --noflush` (IPv4) or `ip6tables-nft-restore --noflush` (IPv6). */
export function renderKubeProxyIptables(plan: FamilyPlan, svc: ServiceSpec): string {
  return [...filterTable(), ...natTable(plan, svc)].join('\n') + '\n';
}
