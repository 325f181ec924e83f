/**
 * The conformance table every kernel mode (and, where it can, the userspace mode) must pass with
 * real packets in the harness's network namespaces (`test/e2e/harness/run-conformance.ts`).
 *
 * A case says: from this client (a pod, a node, the external client, or a backend pod itself),
 * to this address:port and protocol, expect one of: answers only from this set of backends
 * (every one of them answering eventually) with this source address seen by the backend (the
 * client's own = not masqueraded, or a node address = masqueraded), the same backend every time
 * (ClientIP affinity), refused (RST or ICMP error), dropped (no answer before the timeout), or an
 * HTTP status (health-check node ports). Dynamic cases add steps: set the Service's endpoints
 * through the API server, then expect again (polled until it holds, since a sync takes time).
 *
 * Per-mode exceptions are data here, never skips in the runner:
 * - `unsupported: { mode: "reason" }` — the runner registers no test for that mode and reports
 *   the case and its reason with `t.diagnostic`, so reasoned exceptions stay visible without
 *   tripping CI's "no skipped test" rule (`scripts/test.sh`), which is for unexpected skips;
 * - `byMode: { mode: expectation }` — a different first expectation in that mode;
 * - `modeRules` — a rule for every case of a mode (userspace: the backend always sees a node
 *   address, because the relay opens its own connection).
 *
 * Upstream's packet-flow table (`TestInternalExternalMasquerade`) is included row for row, for
 * each of its four settings sub-cases (the runner restarts kproxy with the sub-case's settings).
 */
import type { ProxyMode } from "../../config/proxy-config.ts";
import { conformanceFixtures, type ServiceFixture } from "./conformance-fixtures.ts";
import { conformanceTopology, podByIP, type TopologySpec } from "./conformance-topology.ts";
import { readPacketFlowTable, type PacketFlowRow, type PacketFlowSubcase } from "./packet-flow-table.ts";

/** What a client should get. */
export type Expectation =
  | {
      readonly kind: "answered";
      /** Every answer comes from one of these pods, and each of them answers eventually. */
      readonly backends: readonly string[];
      /** `client`: the backend sees the client's own address; `node`: a node address (masqueraded). */
      readonly source: "client" | "node";
      /** ClientIP affinity: every connection reaches the same backend (one of `backends`). */
      readonly sameBackend?: boolean;
    }
  | { readonly kind: "refused" }
  | { readonly kind: "dropped" }
  | { readonly kind: "http"; readonly status: number };

/** A change through the API server, then what to expect once kproxy has synced it. */
export interface ConformanceStep {
  /** New endpoints (pod names) of the case's Service. */
  readonly setEndpoints: readonly string[];
  readonly expect: Expectation;
}

/** The kind of address a case sends to. */
export type TargetKind = "ClusterIP" | "NodePort" | "externalIP" | "LoadBalancer" | "HealthCheckNodePort";

export interface ConformanceCase {
  readonly name: string;
  /** The kproxy settings the case runs under (`settingsGroups`). */
  readonly settings: string;
  /** A topology name: `n1-client`, `n2-client` (pods), `node1`, `node2`, `external`, or a backend pod. */
  readonly from: string;
  readonly to: { readonly kind: TargetKind; readonly address: string };
  readonly port: number;
  readonly protocol: "TCP" | "UDP";
  /** `namespace/name` of the Service the case exercises (the one `then` steps change). */
  readonly service: string;
  /** UDP: fixed source port, so that every query belongs to one conntrack flow. */
  readonly localPort?: number;
  readonly expect: Expectation;
  readonly then?: readonly ConformanceStep[];
  /** Modes that cannot do this case, each with the reason. */
  readonly unsupported?: Partial<Record<ProxyMode, string>>;
  /** A different first expectation in these modes. */
  readonly byMode?: Partial<Record<ProxyMode, Expectation>>;
  /** Why the expectation (or a mode's) is what it is, or where it comes from. */
  readonly note?: string;
}

/** kproxy settings a group of cases needs (the runner restarts kproxy on node1 between groups). */
export interface SettingsGroup {
  readonly name: string;
  readonly masqueradeAll: boolean;
  /** False: no local-traffic detector (upstream's NoOp detector; `--detect-local-mode None`). */
  readonly localDetector: boolean;
}

/** Rules that apply to every case of a mode. */
export interface ModeRule {
  /** Every `answered` expectation sees a node address; the text says why. */
  readonly sourceAlwaysNode?: string;
  /** Settings groups other than `base` do not apply; the text says why. */
  readonly onlyBaseSettings?: string;
}

export const modeRules: Partial<Record<ProxyMode, ModeRule>> = {
  userspace: {
    sourceAlwaysNode:
      "the userspace relay accepts the connection and opens its own to the backend, so every backend sees a node address",
    onlyBaseSettings:
      "masqueradeAll and the local-traffic detector only decide masquerading, and the userspace relay always connects from the node",
  },
};

const answered = (backends: readonly string[], source: "client" | "node"): Expectation => ({
  kind: "answered",
  backends,
  source,
});
const refused: Expectation = { kind: "refused" };
const dropped: Expectation = { kind: "dropped" };

const node1 = "192.168.0.2";
const node2 = "192.168.0.3";
const web = ["n1-pod1", "n1-pod2", "n2-pod1"];
const lbBackends = ["n1-pod3", "n2-pod3"];
const localBackends = ["n1-pod2", "n1-pod3"];
const noLocalEndpointsUserspace =
  "userspace relays refuse (RST) a connection they have no endpoint for, instead of dropping it";

type OwnCase = Omit<ConformanceCase, "settings" | "protocol"> & { readonly protocol?: "TCP" | "UDP" };

const ownCases: readonly OwnCase[] = [
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

/** Where upstream's packet-flow sources are in our topology (its test node is node1). */
const packetFlowSources: Readonly<Record<string, string>> = {
  "10.0.0.2": "n1-client",
  "192.168.0.2": "node1",
  "203.0.113.2": "external",
};

function packetFlowCase(
  subcase: PacketFlowSubcase,
  row: PacketFlowRow,
  fixtures: readonly ServiceFixture[],
  topology: TopologySpec,
): ConformanceCase {
  const from = packetFlowSources[row.sourceIP];
  if (from === undefined) throw new Error(`Cannot place packet-flow source ${row.sourceIP} of "${row.name}"`);
  const spec = (f: ServiceFixture): { clusterIP?: string; ports?: { nodePort?: number }[] } =>
    f.service["spec"] as { clusterIP?: string; ports?: { nodePort?: number }[] };
  const byClusterIP = fixtures.find((f) => spec(f).clusterIP === row.destIP);
  const byLB = fixtures.find((f) => f.loadBalancerIPs.includes(row.destIP));
  const byNodePort = fixtures.find((f) => spec(f).ports?.some((p) => p.nodePort === row.destPort));
  const isNode = topology.nodes.some((n) => n.ip === row.destIP);
  const [kind, fixture]: [TargetKind, ServiceFixture | undefined] = byClusterIP
    ? ["ClusterIP", byClusterIP]
    : byLB
      ? ["LoadBalancer", byLB]
      : ["NodePort", isNode ? byNodePort : undefined];
  if (fixture === undefined) throw new Error(`Cannot find the Service of packet-flow row "${row.name}"`);
  const backends = row.output.map((target) => {
    const pod = podByIP(topology, target.split(":")[0] ?? "");
    if (pod === undefined) throw new Error(`Cannot place packet-flow endpoint ${target} of "${row.name}"`);
    return pod.name;
  });
  return {
    name: `upstream packet flow [${subcase.name}]: ${row.name}`,
    settings: subcase.name,
    from,
    to: { kind, address: row.destIP },
    port: row.destPort,
    protocol: "TCP",
    service: fixture.key,
    expect: answered(backends, row.masq ? "node" : "client"),
    note: "TestInternalExternalMasquerade (test/conformance/upstream/nftables-internal-external-masquerade.expected.txt)",
  };
}

/** The settings groups, `base` first. */
export function settingsGroups(): SettingsGroup[] {
  return readPacketFlowTable().map((s) => ({
    name: s.name,
    masqueradeAll: s.masqueradeAll,
    localDetector: s.localDetector,
  }));
}

/** Every case: the suite's own (in `base` settings), then upstream's packet-flow rows per sub-case. */
export function conformanceCases(topology: TopologySpec = conformanceTopology): ConformanceCase[] {
  const fixtures = conformanceFixtures(topology);
  const own = ownCases.map((c): ConformanceCase => ({ protocol: "TCP", ...c, settings: "base" }));
  const flows = readPacketFlowTable().flatMap((subcase) =>
    subcase.rows.map((row) => packetFlowCase(subcase, row, fixtures, topology)),
  );
  return [...own, ...flows];
}

/** How a case runs in a mode: not at all (with the reason), or with these expectations. */
export type ResolvedCase =
  | { readonly run: false; readonly reason: string }
  | { readonly run: true; readonly expect: Expectation; readonly then: readonly ConformanceStep[] };

/** Applies `unsupported`, `byMode` and `modeRules` for `mode`. */
export function resolveCase(c: ConformanceCase, mode: ProxyMode): ResolvedCase {
  const reason = c.unsupported?.[mode];
  if (reason !== undefined) return { run: false, reason };
  const rule = modeRules[mode];
  if (rule?.onlyBaseSettings !== undefined && c.settings !== "base")
    return { run: false, reason: rule.onlyBaseSettings };
  const adjust = (e: Expectation): Expectation =>
    rule?.sourceAlwaysNode !== undefined && e.kind === "answered" ? { ...e, source: "node" } : e;
  return {
    run: true,
    expect: adjust(c.byMode?.[mode] ?? c.expect),
    then: (c.then ?? []).map((s) => ({ ...s, expect: adjust(s.expect) })),
  };
}
