import { answered, type ConformanceCase, type TargetKind } from "./conformance-case.ts";
import type { ServiceFixture } from "./conformance-fixtures.ts";
import { podByIP, type TopologySpec } from "./conformance-topology.ts";
import type { PacketFlowRow, PacketFlowSubcase } from "./packet-flow-table.ts";

/** Where upstream's packet-flow sources are in our topology (its test node is node1). */
const packetFlowSources: Readonly<Record<string, string>> = {
  "10.0.0.2": "n1-client",
  "192.168.0.2": "node1",
  "203.0.113.2": "external",
};

/**
 * One row of upstream's packet-flow table as a conformance case: its source placed in our
 * topology, its destination matched to a fixture Service, masquerading turned into the source the
 * backend must see.
 */
export function packetFlowCase(
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
