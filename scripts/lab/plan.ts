// The lab's address plan. Only documentation (RFC 5737) and unique-local (RFC 4193) ranges are used,
// and every address exists only inside the lab's own network namespaces: nothing is routed out.
import type { ServicePortRef } from './kube-proxy-names';

export type Proto = 'tcp' | 'udp';
export type KubeProxyMode = 'nftables' | 'iptables';
export type ExternalTrafficPolicy = 'Cluster' | 'Local';

/** The LAN between the clients and the node (TEST-NET-1 and a ULA /64). */
export const LAN = {
  cidrV4: '192.0.2.0/24',
  cidrV6: 'fd00:192:0:2::/64',
  nodeV4: '192.0.2.1',
  nodeV6: 'fd00:192:0:2::1',
  allowedV4: '192.0.2.10',
  allowedV6: 'fd00:192:0:2::10',
  deniedV4: '192.0.2.20',
  deniedV6: 'fd00:192:0:2::20',
} as const;

/** The pod network behind the node's veth (TEST-NET-3 and a ULA /64): kube-proxy's cluster CIDR. */
export const POD_NET = {
  cidrV4: '203.0.113.0/24',
  cidrV6: 'fd00:203:0:113::/64',
  gatewayV4: '203.0.113.1',
  gatewayV6: 'fd00:203:0:113::1',
  podV4: '203.0.113.10',
  podV6: 'fd00:203:0:113::10',
} as const;

/**
 * Service addresses (TEST-NET-2 and a ULA /48): ClusterIPs come from the service CIDR; the external
 * IP and the LoadBalancer IP lie outside it, and the clients route the whole range to the node.
 */
export const SERVICE_NET = {
  clientRouteV4: '198.51.100.0/24',
  clientRouteV6: 'fd00:198:51::/48',
  serviceCidrV4: '198.51.100.0/25',
  serviceCidrV6: 'fd00:198:51:100::/112',
  clusterIPV4: '198.51.100.10',
  clusterIPV6: 'fd00:198:51:100::10',
  externalIPV4: '198.51.100.200',
  externalIPV6: 'fd00:198:51:101::200',
  loadBalancerIPV4: '198.51.100.201',
  loadBalancerIPV6: 'fd00:198:51:101::201',
} as const;

/** Ports served in the lab. */
export const PORTS = {
  /** The Service's port (ClusterIP, external IP, LoadBalancer IP). */
  service: 80,
  /** The pod's container port, the Service's targetPort. */
  target: 8080,
  /** The Service's NodePort, for TCP and for UDP. */
  nodePort: 30080,
  /** Served by the node itself: an ssh-like failsafe port and a node-local service. */
  nodeSsh: 22,
  nodeHttp: 8080,
} as const;

/** One port of the lab's Service, as kube-proxy sees it. */
export interface ServicePortSpec extends ServicePortRef {
  port: number;
  targetPort: number;
  nodePort: number;
}

/** The Service that kube-proxy's rules in the lab implement, with its single endpoint (the pod). */
export interface ServiceSpec {
  namespace: string;
  name: string;
  externalTrafficPolicy: ExternalTrafficPolicy;
  ports: ServicePortSpec[];
}

export function labService(externalTrafficPolicy: ExternalTrafficPolicy): ServiceSpec {
  const common = { namespace: 'lab', name: 'echo', port: PORTS.service, targetPort: PORTS.target, nodePort: PORTS.nodePort };
  return {
    namespace: 'lab',
    name: 'echo',
    externalTrafficPolicy,
    ports: [
      { ...common, portName: 'echo-tcp', protocol: 'tcp' },
      { ...common, portName: 'echo-udp', protocol: 'udp' },
    ],
  };
}

/** Per-family addresses the kube-proxy renderers need. */
export interface FamilyPlan {
  family: 4 | 6;
  nodeIP: string;
  podIP: string;
  podCidr: string;
  serviceCidr: string;
  clusterIP: string;
  externalIP: string;
  loadBalancerIP: string;
}

export function familyPlan(family: 4 | 6): FamilyPlan {
  return family === 4
    ? {
        family,
        nodeIP: LAN.nodeV4,
        podIP: POD_NET.podV4,
        podCidr: POD_NET.cidrV4,
        serviceCidr: SERVICE_NET.serviceCidrV4,
        clusterIP: SERVICE_NET.clusterIPV4,
        externalIP: SERVICE_NET.externalIPV4,
        loadBalancerIP: SERVICE_NET.loadBalancerIPV4,
      }
    : {
        family,
        nodeIP: LAN.nodeV6,
        podIP: POD_NET.podV6,
        podCidr: POD_NET.cidrV6,
        serviceCidr: SERVICE_NET.serviceCidrV6,
        clusterIP: SERVICE_NET.clusterIPV6,
        externalIP: SERVICE_NET.externalIPV6,
        loadBalancerIP: SERVICE_NET.loadBalancerIPV6,
      };
}
