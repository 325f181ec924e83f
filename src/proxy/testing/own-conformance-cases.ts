/**
 * The suite's own conformance cases (all in `base` settings), beyond upstream's packet-flow
 * table: what issue 4 lists — ClusterIP from pods, nodes and outside; NodePort; externalIPs;
 * LoadBalancer IPs with and without source ranges; ClientIP affinity; no endpoints; eTP and iTP
 * Local; hairpin; scaling through the API server; UDP with stale conntrack entries. Services and
 * endpoints are in `conformance-fixtures.ts`, pods and nodes in `conformance-topology.ts`.
 */
import { answered, dropped, refused, type ConformanceCase } from "./conformance-case.ts";

const node1 = "192.168.0.2";
const node2 = "192.168.0.3";
const web = ["n1-pod1", "n1-pod2", "n2-pod1"];
const lbBackends = ["n1-pod3", "n2-pod3"];
const localBackends = ["n1-pod2", "n1-pod3"];
const noLocalEndpointsUserspace =
  "userspace relays refuse (RST) a connection they have no endpoint for, instead of dropping it";

/** A case before defaults: `settings` is `base`, `protocol` TCP unless given. */
export type OwnCase = Omit<ConformanceCase, "settings" | "protocol"> & { readonly protocol?: "TCP" | "UDP" };

/** The suite's own cases. */
export const ownConformanceCases: readonly OwnCase[] = [
  // ClusterIP from everywhere.
  ...(["n1-client", "n2-client"] as const).map((from): OwnCase => ({
    name: `ClusterIP from a pod (${from})`,
    from,
    to: { kind: "ClusterIP", address: "172.30.1.10" },
    port: 8080,
    service: "kp/web",
    expect: answered(web, "client"),
  })),
  ...(["node1", "node2"] as const).map((from): OwnCase => ({
    name: `ClusterIP from ${from}`,
    from,
    to: { kind: "ClusterIP", address: "172.30.1.10" },
    port: 8080,
    service: "kp/web",
    expect: answered(web, "node"),
  })),
  {
    name: "ClusterIP from outside the cluster (routed through node1), masqueraded",
    from: "external",
    to: { kind: "ClusterIP", address: "172.30.1.10" },
    port: 8080,
    service: "kp/web",
    expect: answered(web, "node"),
  },
  // NodePort.
  ...[node1, node2].map((address, i): OwnCase => ({
    name: `NodePort on node${i + 1} from outside, masqueraded`,
    from: "external",
    to: { kind: "NodePort", address },
    port: 30080,
    service: "kp/web",
    expect: answered(web, "node"),
  })),
  {
    name: "NodePort on node2 from a pod on node1, masqueraded",
    from: "n1-client",
    to: { kind: "NodePort", address: node2 },
    port: 30080,
    service: "kp/web",
    expect: answered(web, "node"),
  },
  {
    name: "NodePort on 127.0.0.1 from node1 (localhost NodePorts)",
    from: "node1",
    to: { kind: "NodePort", address: "127.0.0.1" },
    port: 30080,
    service: "kp/web",
    expect: answered(web, "node"),
    unsupported: {
      nftables:
        "upstream's nftables mode does not accept NodePorts on 127.0.0.1 (it never set route_localnet)",
    },
  },
  // externalIPs.
  ...(["external", "n1-client", "node1"] as const).map((from): OwnCase => ({
    name: `externalIP from ${from}, masqueraded`,
    from,
    to: { kind: "externalIP", address: "198.51.100.10" },
    port: 8080,
    service: "kp/web",
    expect: answered(web, "node"),
  })),
  // LoadBalancer IPs, with and without source ranges.
  {
    name: "LoadBalancer IP from outside, masqueraded",
    from: "external",
    to: { kind: "LoadBalancer", address: "198.51.100.20" },
    port: 80,
    service: "kp/lb-open",
    expect: answered(lbBackends, "node"),
  },
  {
    name: "LoadBalancer IP with loadBalancerSourceRanges, from an allowed source",
    from: "external",
    to: { kind: "LoadBalancer", address: "198.51.100.21" },
    port: 80,
    service: "kp/lb-allow",
    expect: answered(lbBackends, "node"),
  },
  {
    name: "LoadBalancer IP with loadBalancerSourceRanges, from a source outside them: dropped",
    from: "external",
    to: { kind: "LoadBalancer", address: "198.51.100.22" },
    port: 80,
    service: "kp/lb-deny",
    expect: dropped,
    byMode: { userspace: refused },
    note: "userspace enforces source ranges in the relay, which resets the connection",
  },
  {
    name: "loadBalancerSourceRanges do not apply to the Service's NodePort",
    from: "external",
    to: { kind: "NodePort", address: node1 },
    port: 30022,
    service: "kp/lb-deny",
    expect: answered(lbBackends, "node"),
  },
  // ClientIP affinity.
  {
    name: "ClientIP affinity from a pod: the same backend every time",
    from: "n1-client",
    to: { kind: "ClusterIP", address: "172.30.1.30" },
    port: 80,
    service: "kp/affinity",
    expect: {
      kind: "answered",
      backends: ["n1-pod1", "n1-pod2", "n2-pod1", "n2-pod2"],
      source: "client",
      sameBackend: true,
    },
  },
  {
    name: "ClientIP affinity from node2: the same backend every time",
    from: "node2",
    to: { kind: "ClusterIP", address: "172.30.1.30" },
    port: 80,
    service: "kp/affinity",
    expect: {
      kind: "answered",
      backends: ["n1-pod1", "n1-pod2", "n2-pod1", "n2-pod2"],
      source: "node",
      sameBackend: true,
    },
  },
  // No endpoints: refused at once, from everywhere.
  ...(["n1-client", "node1"] as const).map((from): OwnCase => ({
    name: `no endpoints: ClusterIP from ${from} is refused`,
    from,
    to: { kind: "ClusterIP", address: "172.30.1.40" },
    port: 80,
    service: "kp/empty",
    expect: refused,
  })),
  {
    name: "no endpoints: NodePort from outside is refused",
    from: "external",
    to: { kind: "NodePort", address: node1 },
    port: 30040,
    service: "kp/empty",
    expect: refused,
  },
  // externalTrafficPolicy: Local (endpoints on node1 only).
  {
    name: "eTP Local: NodePort on node1 from outside reaches only local endpoints, client address kept",
    from: "external",
    to: { kind: "NodePort", address: node1 },
    port: 30050,
    service: "kp/local",
    expect: answered(localBackends, "client"),
  },
  {
    name: "eTP Local: LoadBalancer IP (routed to node1) from outside reaches only local endpoints, client address kept",
    from: "external",
    to: { kind: "LoadBalancer", address: "198.51.100.50" },
    port: 80,
    service: "kp/local",
    expect: answered(localBackends, "client"),
  },
  {
    name: "eTP Local: NodePort on node2 (no local endpoints) from outside is dropped",
    from: "external",
    to: { kind: "NodePort", address: node2 },
    port: 30050,
    service: "kp/local",
    expect: dropped,
    byMode: { userspace: refused },
    note: noLocalEndpointsUserspace,
  },
  {
    name: "eTP Local: health-check node port on node1 (local endpoints) answers 200",
    from: "external",
    to: { kind: "HealthCheckNodePort", address: node1 },
    port: 30051,
    service: "kp/local",
    expect: { kind: "http", status: 200 },
  },
  {
    name: "eTP Local: health-check node port on node2 (no local endpoints) answers 503",
    from: "external",
    to: { kind: "HealthCheckNodePort", address: node2 },
    port: 30051,
    service: "kp/local",
    expect: { kind: "http", status: 503 },
  },
  {
    name: "eTP Local: a pod on node2 reaches node2's NodePort through every endpoint (pod traffic short-circuit)",
    from: "n2-client",
    to: { kind: "NodePort", address: node2 },
    port: 30050,
    service: "kp/local",
    expect: answered(localBackends, "client"),
  },
  {
    name: "eTP Local: ClusterIP from a pod on node2 uses every endpoint",
    from: "n2-client",
    to: { kind: "ClusterIP", address: "172.30.1.50" },
    port: 80,
    service: "kp/local",
    expect: answered(localBackends, "client"),
  },
  // internalTrafficPolicy: Local.
  {
    name: "iTP Local: ClusterIP from a pod on node2 reaches only node2's endpoint",
    from: "n2-client",
    to: { kind: "ClusterIP", address: "172.30.1.60" },
    port: 80,
    service: "kp/itp",
    expect: answered(["n2-pod1"], "client"),
  },
  {
    name: "iTP Local: ClusterIP from node1 reaches only node1's endpoint",
    from: "node1",
    to: { kind: "ClusterIP", address: "172.30.1.60" },
    port: 80,
    service: "kp/itp",
    expect: answered(["n1-pod1"], "node"),
  },
  {
    name: "iTP Local: ClusterIP from a pod on node2, which has no local endpoint, is dropped",
    from: "n2-client",
    to: { kind: "ClusterIP", address: "172.30.1.61" },
    port: 80,
    service: "kp/itp-remote",
    expect: dropped,
    byMode: { userspace: refused },
    note: noLocalEndpointsUserspace,
  },
  // Hairpin.
  {
    name: "hairpin: a pod reaches itself through its Service, masqueraded",
    from: "n1-pod1",
    to: { kind: "ClusterIP", address: "172.30.1.70" },
    port: 80,
    service: "kp/hairpin",
    expect: answered(["n1-pod1"], "node"),
  },
  // Scale up and down through the API server.
  {
    name: "scale up and down: traffic follows the EndpointSlice",
    from: "n1-client",
    to: { kind: "ClusterIP", address: "172.30.1.80" },
    port: 80,
    service: "kp/scale",
    expect: answered(["n1-pod1"], "client"),
    then: [
      {
        setEndpoints: ["n1-pod1", "n1-pod2", "n2-pod1", "n2-pod2"],
        expect: answered(["n1-pod1", "n1-pod2", "n2-pod1", "n2-pod2"], "client"),
      },
      { setEndpoints: ["n2-pod2"], expect: answered(["n2-pod2"], "client") },
      { setEndpoints: [], expect: refused },
      { setEndpoints: ["n1-pod3"], expect: answered(["n1-pod3"], "client") },
    ],
  },
  // UDP.
  {
    name: "UDP ClusterIP from a pod",
    from: "n1-client",
    protocol: "UDP",
    to: { kind: "ClusterIP", address: "172.30.1.90" },
    port: 53,
    service: "kp/udp",
    expect: answered(["n1-pod1", "n2-pod1"], "client"),
  },
  {
    name: "UDP NodePort from outside, masqueraded",
    from: "external",
    protocol: "UDP",
    to: { kind: "NodePort", address: node1 },
    port: 30090,
    service: "kp/udp",
    expect: answered(["n1-pod1", "n2-pod1"], "node"),
  },
  {
    name: "UDP: a flow whose endpoint is removed moves to the new endpoint (stale conntrack entry cleared)",
    from: "n1-client",
    protocol: "UDP",
    localPort: 40053,
    to: { kind: "ClusterIP", address: "172.30.1.91" },
    port: 53,
    service: "kp/udp-stale",
    expect: answered(["n1-pod1"], "client"),
    then: [{ setEndpoints: ["n2-pod2"], expect: answered(["n2-pod2"], "client") }],
  },
  {
    name: "UDP: a flow to a Service without endpoints is answered once the first endpoint appears",
    from: "n1-client",
    protocol: "UDP",
    localPort: 40054,
    to: { kind: "ClusterIP", address: "172.30.1.92" },
    port: 53,
    service: "kp/udp-first",
    expect: refused,
    byMode: { userspace: dropped },
    note: "userspace drops (and counts) a datagram it has no endpoint for",
    then: [{ setEndpoints: ["n1-pod2"], expect: answered(["n1-pod2"], "client") }],
  },
];
