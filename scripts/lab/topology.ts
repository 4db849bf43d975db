// The lab's namespaces and how they are wired: the sysctls and `ip -batch` commands per namespace.
// Pure: Lab runs them; keeping them here keeps the whole topology readable in one place.
import { LAN, POD_NET, SERVICE_NET } from './plan';

export const ROLES = ['lan', 'node', 'pod', 'allowed', 'denied'] as const;
export type Role = (typeof ROLES)[number];
export const CLIENT_ROLES = ['allowed', 'denied'] as const;
export type ClientRole = (typeof CLIENT_ROLES)[number];

export const BRIDGE = 'br0';
export const POD_IFACE = 'vethpod';

export const CLIENT_ADDRESSES: Record<ClientRole, { v4: string; v6: string }> = {
  allowed: { v4: LAN.allowedV4, v6: LAN.allowedV6 },
  denied: { v4: LAN.deniedV4, v6: LAN.deniedV6 },
};

/** sysctl settings (name=value) for one namespace, applied before any interface exists. */
export function sysctls(role: Role, ipv6: boolean): string[] {
  const settings = ipv6
    ? [
        // No duplicate address detection: IPv6 addresses are usable at once.
        'net.ipv6.conf.all.accept_dad=0',
        'net.ipv6.conf.default.accept_dad=0',
        'net.ipv6.conf.all.disable_ipv6=0',
        'net.ipv6.conf.default.disable_ipv6=0',
      ]
    : ['net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1'];
  if (role === 'allowed' || role === 'denied') {
    // Connection-rate runs reuse client ports still in TIME_WAIT instead of running out of them.
    settings.push('net.ipv4.tcp_tw_reuse=1');
  }
  if (role === 'node') {
    settings.push('net.ipv4.ip_forward=1');
    if (ipv6) settings.push('net.ipv6.conf.all.forwarding=1');
  }
  return settings;
}

/** ip(8) commands, without the leading "ip", for `ip -n <namespace of role> -batch -`. */
export interface IpBatch {
  role: Role;
  lines: string[];
}

/** The wiring, in the order it must run (a veth's peer namespace must exist; links before addresses). */
export function wiring(nsOf: (role: Role) => string, ipv6: boolean): IpBatch[] {
  const lan = [
    'link set lo up',
    `link add ${BRIDGE} type bridge mcast_snooping 0`,
    `link set ${BRIDGE} up`,
    `link add name node type veth peer name eth0 netns ${nsOf('node')}`,
    `link set node master ${BRIDGE} up`,
  ];
  for (const role of CLIENT_ROLES) {
    lan.push(`link add name ${role} type veth peer name eth0 netns ${nsOf(role)}`, `link set ${role} master ${BRIDGE} up`);
  }

  const node = [
    'link set lo up',
    'link set eth0 up',
    `addr add ${LAN.nodeV4}/24 dev eth0`,
    `link add name ${POD_IFACE} type veth peer name eth0 netns ${nsOf('pod')}`,
    `addr add ${POD_NET.gatewayV4}/24 dev ${POD_IFACE}`,
    `link set ${POD_IFACE} up`,
  ];
  if (ipv6) node.push(`addr add ${LAN.nodeV6}/64 dev eth0 nodad`, `addr add ${POD_NET.gatewayV6}/64 dev ${POD_IFACE} nodad`);
  // A real node reaches ClusterIPs and LB IPs through its default route, so its own connections get
  // as far as kube-proxy's nat-output DNAT. Here the service range stands in for that default route
  // and, like everything in the lab, stays on the lab's LAN.
  node.push(`route add ${SERVICE_NET.clientRouteV4} dev eth0`);
  if (ipv6) node.push(`route add ${SERVICE_NET.clientRouteV6} dev eth0`);

  const pod = ['link set lo up', 'link set eth0 up', `addr add ${POD_NET.podV4}/24 dev eth0`, `route add default via ${POD_NET.gatewayV4}`];
  if (ipv6) pod.push(`addr add ${POD_NET.podV6}/64 dev eth0 nodad`, `route add default via ${POD_NET.gatewayV6}`);

  const clients: IpBatch[] = CLIENT_ROLES.map((role) => {
    const { v4, v6 } = CLIENT_ADDRESSES[role];
    const lines = [
      'link set lo up',
      'link set eth0 up',
      `addr add ${v4}/24 dev eth0`,
      // External IPs and LoadBalancer IPs reach the node the way an upstream router would send them.
      `route add ${SERVICE_NET.clientRouteV4} via ${LAN.nodeV4}`,
    ];
    if (ipv6) lines.push(`addr add ${v6}/64 dev eth0 nodad`, `route add ${SERVICE_NET.clientRouteV6} via ${LAN.nodeV6}`);
    return { role, lines };
  });

  return [{ role: 'lan', lines: lan }, { role: 'node', lines: node }, { role: 'pod', lines: pod }, ...clients];
}
