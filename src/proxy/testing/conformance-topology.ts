/**
 * The cluster the conformance suite runs in: two nodes, their pods, and one client outside the
 * pod network. The addresses follow upstream's `TestInternalExternalMasquerade` (node IP
 * 192.168.0.2, external client 203.0.113.2, endpoints 10.180.0.x on the node and 10.180.1.x on
 * the other one) so that its packet-flow table can be replayed with real packets unchanged.
 * `test/e2e/harness/` builds exactly this, inside network namespaces.
 */

/** A node: one address on the shared fabric, and a bridge (`cbr0`) for its pods. */
export interface TopologyNode {
  readonly name: string;
  /** Address on the fabric (the node IP), prefix length `fabricPrefixLength`. */
  readonly ip: string;
  /** The pod bridge's address: the pods' default gateway. */
  readonly podGateway: string;
  /** The node's pod CIDR (routed to this node by the other nodes). */
  readonly podCIDR: string;
}

/** A pod namespace on a node's bridge. Backends run the name server; clients only send. */
export interface TopologyPod {
  readonly name: string;
  readonly node: string;
  readonly ip: string;
  readonly role: "backend" | "client";
}

/** The client outside the pod network, on the fabric but in its own subnet. */
export interface TopologyExternalClient {
  readonly name: string;
  readonly ip: string;
  /**
   * The node the client sends everything through (node IPs, pod CIDRs, `routedCIDRs`), and the
   * other nodes' default gateway: the cluster's edge router, so that external flows are symmetric.
   */
  readonly gatewayNode: string;
  /** Destinations sent to `gatewayNode`: the service range, externalIPs, LoadBalancer IPs. */
  readonly routedCIDRs: readonly string[];
}

/** Everything the harness builds. */
export interface TopologySpec {
  readonly fabricPrefixLength: number;
  readonly podPrefixLength: number;
  readonly nodes: readonly TopologyNode[];
  readonly pods: readonly TopologyPod[];
  readonly external: TopologyExternalClient;
  /** Ports every backend answers on. */
  readonly backendPorts: { readonly tcp: readonly number[]; readonly udp: readonly number[] };
}

/** The service range handed to kproxy's API server (`--service-cluster-ip-range`). */
export const serviceClusterIPRange = "172.30.0.0/16";
/** The cluster CIDR the local-traffic detector uses (`--cluster-cidr`); upstream's test uses the same. */
export const clusterCIDR = "10.0.0.0/8";
/** NodePort range: starts at 3000 because upstream's packet-flow table uses NodePorts 3001-3003. */
export const serviceNodePortRange = "3000-32767";
/** externalIPs and LoadBalancer IPs the suite's own Services use. */
export const externalAddressCIDR = "198.51.100.0/24";
/** LoadBalancer IPs of upstream's packet-flow table. */
export const upstreamLoadBalancerIPs = ["1.2.3.4", "5.6.7.8", "9.10.11.12"] as const;

function pod(name: string, node: string, ip: string, role: TopologyPod["role"] = "backend"): TopologyPod {
  return { name, node, ip, role };
}

/** The conformance cluster. */
export const conformanceTopology: TopologySpec = {
  fabricPrefixLength: 24,
  podPrefixLength: 24,
  nodes: [
    { name: "node1", ip: "192.168.0.2", podGateway: "10.180.0.254", podCIDR: "10.180.0.0/24" },
    { name: "node2", ip: "192.168.0.3", podGateway: "10.180.1.254", podCIDR: "10.180.1.0/24" },
  ],
  pods: [
    pod("n1-pod1", "node1", "10.180.0.1"),
    pod("n1-pod2", "node1", "10.180.0.2"),
    pod("n1-pod3", "node1", "10.180.0.3"),
    pod("n1-client", "node1", "10.180.0.100", "client"),
    pod("n2-pod1", "node2", "10.180.1.1"),
    pod("n2-pod2", "node2", "10.180.1.2"),
    pod("n2-pod3", "node2", "10.180.1.3"),
    pod("n2-client", "node2", "10.180.1.100", "client"),
  ],
  external: {
    name: "external",
    ip: "203.0.113.2",
    gatewayNode: "node1",
    routedCIDRs: [
      serviceClusterIPRange,
      externalAddressCIDR,
      ...upstreamLoadBalancerIPs.map((ip) => `${ip}/32`),
    ],
  },
  backendPorts: { tcp: [80], udp: [80] },
};

/** The pod with this IP, or undefined. */
export function podByIP(spec: TopologySpec, ip: string): TopologyPod | undefined {
  return spec.pods.find((p) => p.ip === ip);
}

/** Every address a node owns (fabric IP and pod gateway): what a masqueraded packet carries. */
export function nodeAddresses(spec: TopologySpec): string[] {
  return spec.nodes.flatMap((n) => [n.ip, n.podGateway]);
}
