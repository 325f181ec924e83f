import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Endpoint } from "../model/endpoint.ts";
import type { ServicePort } from "../model/service-port.ts";
import { categorizeEndpoints } from "./categorize-endpoints.ts";

/** An endpoint as upstream's tests write them: `ip:port` plus conditions and hints. */
function ep(
  key: string,
  o: {
    ready?: boolean;
    serving?: boolean;
    terminating?: boolean;
    isLocal?: boolean;
    zones?: string[];
    nodes?: string[];
  } = {},
): Endpoint {
  const [ip = "", port = "0"] = key.split(":");
  return {
    ip,
    port: Number(port),
    key,
    ready: o.ready ?? false,
    serving: o.serving ?? false,
    terminating: o.terminating ?? false,
    isLocal: o.isLocal ?? false,
    nodeName: o.isLocal ? "node-1" : "other",
    zone: undefined,
    zoneHints: new Set(o.zones ?? []),
    nodeHints: new Set(o.nodes ?? []),
    hostname: undefined,
    targetRef: undefined,
  };
}

/** A service port; `nodePort` makes it externally accessible, as in upstream's cases. */
function svc(o: { internalLocal?: boolean; externalLocal?: boolean; nodePort?: number } = {}): ServicePort {
  const nodePort = o.nodePort ?? 0;
  return {
    name: { namespace: "ns", name: "svc", port: "", protocol: "TCP" },
    key: "ns/svc",
    serviceKey: "ns/svc",
    family: "IPv4",
    type: nodePort > 0 ? "NodePort" : "ClusterIP",
    clusterIP: "172.30.0.1",
    port: 80,
    protocol: "TCP",
    targetPort: 80,
    nodePort,
    externalIPs: [],
    loadBalancerVIPs: [],
    loadBalancerSourceRanges: [],
    stickyMaxAgeSeconds: 0,
    // As upstream's BaseServicePortInfo: the flag is set directly, whether or not the port is external.
    externalPolicyLocal: o.externalLocal ?? false,
    internalPolicyLocal: o.internalLocal ?? false,
    healthCheckNodePort: 0,
    trafficDistribution: undefined,
    scheduler: undefined,
  };
}

interface Case {
  name: string;
  zone?: string;
  nodeName?: string;
  svc: ServicePort;
  endpoints: Endpoint[];
  /** undefined: the port does not use this kind of endpoints (an empty list is expected). */
  cluster: string[] | undefined;
  local: string[] | undefined;
  /** Defaults to whichever of cluster/local is set, when only one is. */
  all?: string[];
  /** hasAnyEndpoints is true although allReachableEndpoints is empty. */
  onlyRemote?: boolean;
}

const r = { ready: true };
const cases: Case[] = [
  // Upstream topology_test.go, TestCategorizeEndpoints.
  {
    name: "should use topology since all endpoints have hints, node has a zone label and there are endpoints for the node's zone",
    zone: "zone-a",
    svc: svc(),
    endpoints: [
      ep("10.1.2.3:80", { ...r, zones: ["zone-a"] }),
      ep("10.1.2.4:80", { ...r, zones: ["zone-b"] }),
      ep("10.1.2.5:80", { ...r, zones: ["zone-c"] }),
      ep("10.1.2.6:80", { ...r, zones: ["zone-a"] }),
    ],
    cluster: ["10.1.2.3:80", "10.1.2.6:80"],
    local: undefined,
  },
  {
    name: "externalTrafficPolicy: Local, topology ignored for Local endpoints",
    zone: "zone-a",
    svc: svc({ externalLocal: true, nodePort: 8080 }),
    endpoints: [
      ep("10.1.2.3:80", { ...r, zones: ["zone-a"], isLocal: true }),
      ep("10.1.2.4:80", { ...r, zones: ["zone-b"], isLocal: true }),
      ep("10.1.2.5:80", { ...r, zones: ["zone-c"] }),
      ep("10.1.2.6:80", { ...r, zones: ["zone-a"] }),
    ],
    cluster: ["10.1.2.3:80", "10.1.2.6:80"],
    local: ["10.1.2.3:80", "10.1.2.4:80"],
    all: ["10.1.2.3:80", "10.1.2.4:80", "10.1.2.6:80"],
  },
  {
    name: "internalTrafficPolicy: Local, topology ignored for Local endpoints",
    zone: "zone-a",
    svc: svc({ internalLocal: true, nodePort: 8080 }),
    endpoints: [
      ep("10.1.2.3:80", { ...r, zones: ["zone-a"], isLocal: true }),
      ep("10.1.2.4:80", { ...r, zones: ["zone-b"], isLocal: true }),
      ep("10.1.2.5:80", { ...r, zones: ["zone-c"] }),
      ep("10.1.2.6:80", { ...r, zones: ["zone-a"] }),
    ],
    cluster: ["10.1.2.3:80", "10.1.2.6:80"],
    local: ["10.1.2.3:80", "10.1.2.4:80"],
    all: ["10.1.2.3:80", "10.1.2.4:80", "10.1.2.6:80"],
  },
  {
    name: "empty node labels",
    svc: svc(),
    endpoints: [ep("10.1.2.3:80", { ...r, zones: ["zone-a"] })],
    cluster: ["10.1.2.3:80"],
    local: undefined,
  },
  {
    name: "empty zone label",
    zone: "",
    svc: svc(),
    endpoints: [ep("10.1.2.3:80", { ...r, zones: ["zone-a"] })],
    cluster: ["10.1.2.3:80"],
    local: undefined,
  },
  {
    name: "node in different zone, no endpoint filtering",
    zone: "zone-b",
    svc: svc(),
    endpoints: [ep("10.1.2.3:80", { ...r, zones: ["zone-a"] })],
    cluster: ["10.1.2.3:80"],
    local: undefined,
  },
  {
    name: "unready endpoint",
    zone: "zone-a",
    svc: svc(),
    endpoints: [
      ep("10.1.2.3:80", { ...r, zones: ["zone-a"] }),
      ep("10.1.2.4:80", { ...r, zones: ["zone-b"] }),
      ep("10.1.2.5:80", { ...r, zones: ["zone-c"] }),
      ep("10.1.2.6:80", { zones: ["zone-a"] }),
    ],
    cluster: ["10.1.2.3:80"],
    local: undefined,
  },
  {
    name: "only unready endpoints in same zone (should not filter)",
    zone: "zone-a",
    svc: svc(),
    endpoints: [
      ep("10.1.2.3:80", { zones: ["zone-a"] }),
      ep("10.1.2.4:80", { ...r, zones: ["zone-b"] }),
      ep("10.1.2.5:80", { ...r, zones: ["zone-c"] }),
      ep("10.1.2.6:80", { zones: ["zone-a"] }),
    ],
    cluster: ["10.1.2.4:80", "10.1.2.5:80"],
    local: undefined,
  },
  {
    name: "missing hints, no filtering applied",
    zone: "zone-a",
    svc: svc(),
    endpoints: [
      ep("10.1.2.3:80", { ...r, zones: ["zone-a"] }),
      ep("10.1.2.4:80", { ...r, zones: ["zone-b"] }),
      ep("10.1.2.5:80", { ...r }),
      ep("10.1.2.6:80", { ...r, zones: ["zone-a"] }),
    ],
    cluster: ["10.1.2.3:80", "10.1.2.4:80", "10.1.2.5:80", "10.1.2.6:80"],
    local: undefined,
  },
  {
    name: "multiple hints per endpoint, filtering includes any endpoint with zone included",
    zone: "zone-c",
    svc: svc(),
    endpoints: [
      ep("10.1.2.3:80", { ...r, zones: ["zone-a", "zone-b", "zone-c"] }),
      ep("10.1.2.4:80", { ...r, zones: ["zone-b", "zone-c"] }),
      ep("10.1.2.5:80", { ...r, zones: ["zone-b", "zone-d"] }),
      ep("10.1.2.6:80", { ...r, zones: ["zone-c"] }),
    ],
    cluster: ["10.1.2.3:80", "10.1.2.4:80", "10.1.2.6:80"],
    local: undefined,
  },
  {
    name: "conflicting topology and localness require merging allEndpoints",
    zone: "zone-a",
    svc: svc({ externalLocal: true, nodePort: 8080 }),
    endpoints: [
      ep("10.0.0.0:80", { ...r, zones: ["zone-a"], isLocal: true }),
      ep("10.0.0.1:80", { ...r, zones: ["zone-b"], isLocal: true }),
      ep("10.0.0.2:80", { ...r, zones: ["zone-a"] }),
      ep("10.0.0.3:80", { ...r, zones: ["zone-b"] }),
    ],
    cluster: ["10.0.0.0:80", "10.0.0.2:80"],
    local: ["10.0.0.0:80", "10.0.0.1:80"],
    all: ["10.0.0.0:80", "10.0.0.1:80", "10.0.0.2:80"],
  },
  {
    name: "internalTrafficPolicy: Local, with empty endpoints",
    svc: svc({ internalLocal: true }),
    endpoints: [],
    cluster: undefined,
    local: [],
  },
  {
    name: "internalTrafficPolicy: Local, but all endpoints are remote",
    svc: svc({ internalLocal: true }),
    endpoints: [ep("10.0.0.0:80", r), ep("10.0.0.1:80", r)],
    cluster: undefined,
    local: [],
    onlyRemote: true,
  },
  {
    name: "internalTrafficPolicy: Local, all endpoints are local",
    svc: svc({ internalLocal: true }),
    endpoints: [ep("10.0.0.0:80", { ...r, isLocal: true }), ep("10.0.0.1:80", { ...r, isLocal: true })],
    cluster: undefined,
    local: ["10.0.0.0:80", "10.0.0.1:80"],
  },
  {
    name: "internalTrafficPolicy: Local, some endpoints are local",
    svc: svc({ internalLocal: true }),
    endpoints: [ep("10.0.0.0:80", { ...r, isLocal: true }), ep("10.0.0.1:80", r)],
    cluster: undefined,
    local: ["10.0.0.0:80"],
  },
  {
    name: "Cluster traffic policy, endpoints not Ready",
    svc: svc(),
    endpoints: [ep("10.0.0.0:80"), ep("10.0.0.1:80")],
    cluster: [],
    local: undefined,
  },
  {
    name: "Cluster traffic policy, some endpoints are Ready",
    svc: svc(),
    endpoints: [ep("10.0.0.0:80"), ep("10.0.0.1:80", r)],
    cluster: ["10.0.0.1:80"],
    local: undefined,
  },
  {
    name: "Cluster traffic policy, all endpoints are terminating",
    svc: svc(),
    endpoints: [
      ep("10.0.0.0:80", { serving: true, terminating: true, isLocal: true }),
      ep("10.0.0.1:80", { serving: true, terminating: true }),
    ],
    cluster: ["10.0.0.0:80", "10.0.0.1:80"],
    local: undefined,
  },
  {
    name: "iTP: Local, eTP: Cluster, some endpoints local",
    svc: svc({ internalLocal: true, nodePort: 8080 }),
    endpoints: [ep("10.0.0.0:80", { ...r, isLocal: true }), ep("10.0.0.1:80", r)],
    cluster: ["10.0.0.0:80", "10.0.0.1:80"],
    local: ["10.0.0.0:80"],
    all: ["10.0.0.0:80", "10.0.0.1:80"],
  },
  {
    name: "iTP: Cluster, eTP: Local, some endpoints local",
    svc: svc({ externalLocal: true, nodePort: 8080 }),
    endpoints: [ep("10.0.0.0:80", { ...r, isLocal: true }), ep("10.0.0.1:80", r)],
    cluster: ["10.0.0.0:80", "10.0.0.1:80"],
    local: ["10.0.0.0:80"],
    all: ["10.0.0.0:80", "10.0.0.1:80"],
  },
  {
    name: "iTP: Local, eTP: Local, some endpoints local",
    svc: svc({ internalLocal: true, externalLocal: true, nodePort: 8080 }),
    endpoints: [ep("10.0.0.0:80", { ...r, isLocal: true }), ep("10.0.0.1:80", r)],
    cluster: ["10.0.0.0:80", "10.0.0.1:80"],
    local: ["10.0.0.0:80"],
    all: ["10.0.0.0:80", "10.0.0.1:80"],
  },
  {
    name: "iTP: Local, eTP: Local, all endpoints remote",
    svc: svc({ internalLocal: true, externalLocal: true, nodePort: 8080 }),
    endpoints: [ep("10.0.0.0:80", r), ep("10.0.0.1:80", r)],
    cluster: ["10.0.0.0:80", "10.0.0.1:80"],
    local: [],
    all: ["10.0.0.0:80", "10.0.0.1:80"],
  },
  {
    name: "iTP: Local, eTP: Local, all endpoints remote and terminating",
    svc: svc({ internalLocal: true, externalLocal: true, nodePort: 8080 }),
    endpoints: [
      ep("10.0.0.0:80", { serving: true, terminating: true }),
      ep("10.0.0.1:80", { serving: true, terminating: true }),
    ],
    cluster: ["10.0.0.0:80", "10.0.0.1:80"],
    local: [],
    all: ["10.0.0.0:80", "10.0.0.1:80"],
    onlyRemote: true,
  },
  {
    name: "iTP: Cluster, eTP: Local, with terminating endpoints",
    svc: svc({ externalLocal: true, nodePort: 8080 }),
    endpoints: [
      ep("10.0.0.0:80", r),
      ep("10.0.0.1:80", { isLocal: true }),
      ep("10.0.0.2:80", { serving: true, terminating: true, isLocal: true }),
      ep("10.0.0.3:80", { serving: true, terminating: true }),
    ],
    cluster: ["10.0.0.0:80"],
    local: ["10.0.0.2:80"],
    all: ["10.0.0.0:80", "10.0.0.2:80"],
  },
  {
    name: "externalTrafficPolicy ignored if not externally accessible",
    svc: svc({ externalLocal: true }),
    endpoints: [ep("10.0.0.0:80", r), ep("10.0.0.1:80", { ...r, isLocal: true })],
    cluster: ["10.0.0.0:80", "10.0.0.1:80"],
    local: undefined,
    all: ["10.0.0.0:80", "10.0.0.1:80"],
  },
  {
    name: "no cluster endpoints for iTP:Local internal-only service",
    svc: svc({ internalLocal: true }),
    endpoints: [ep("10.0.0.0:80", r), ep("10.0.0.1:80", { ...r, isLocal: true })],
    cluster: undefined,
    local: ["10.0.0.1:80"],
    all: ["10.0.0.1:80"],
  },
  // Node hints (trafficDistribution: PreferSameNode), as upstream's newer topology code handles them.
  {
    name: "PreferSameNode: every endpoint has a node hint and one is for this node",
    zone: "zone-a",
    svc: svc(),
    endpoints: [
      ep("10.1.2.3:80", { ...r, zones: ["zone-a"], nodes: ["node-1"] }),
      ep("10.1.2.4:80", { ...r, zones: ["zone-a"], nodes: ["node-2"] }),
      ep("10.1.2.5:80", { ...r, zones: ["zone-b"], nodes: ["node-3"] }),
    ],
    cluster: ["10.1.2.3:80"],
    local: undefined,
  },
  {
    name: "PreferSameNode: no hint for this node falls back to zone hints",
    zone: "zone-a",
    svc: svc(),
    endpoints: [
      ep("10.1.2.3:80", { ...r, zones: ["zone-a"], nodes: ["node-2"] }),
      ep("10.1.2.4:80", { ...r, zones: ["zone-a"], nodes: ["node-2"] }),
      ep("10.1.2.5:80", { ...r, zones: ["zone-b"], nodes: ["node-3"] }),
    ],
    cluster: ["10.1.2.3:80", "10.1.2.4:80"],
    local: undefined,
  },
  {
    name: "PreferSameNode: an endpoint without a node hint disables node filtering",
    zone: "zone-x",
    svc: svc(),
    endpoints: [ep("10.1.2.3:80", { ...r, nodes: ["node-1"] }), ep("10.1.2.4:80", { ...r })],
    cluster: ["10.1.2.3:80", "10.1.2.4:80"],
    local: undefined,
  },
  {
    name: "PreferSameNode: unready endpoints' hints are not considered",
    svc: svc(),
    endpoints: [
      ep("10.1.2.3:80", { ...r, nodes: ["node-1"] }),
      ep("10.1.2.4:80", { ...r, nodes: ["node-2"] }),
      ep("10.1.2.5:80", { nodes: [] }),
    ],
    cluster: ["10.1.2.3:80"],
    local: undefined,
  },
];

describe("categorizeEndpoints (upstream topology_test.go cases)", () => {
  for (const c of cases) {
    it(c.name, () => {
      const got = categorizeEndpoints(c.endpoints, c.svc, {
        name: c.nodeName ?? "node-1",
        zone: c.zone ?? "",
      });
      const keys = (eps: readonly Endpoint[]): string[] => eps.map((e) => e.key).sort();
      assert.deepEqual(keys(got.clusterEndpoints), [...(c.cluster ?? [])].sort(), "clusterEndpoints");
      assert.deepEqual(keys(got.localEndpoints), [...(c.local ?? [])].sort(), "localEndpoints");
      const expectedAll =
        c.cluster !== undefined && c.local === undefined
          ? c.cluster
          : c.local !== undefined && c.cluster === undefined
            ? c.local
            : (c.all ?? []);
      assert.deepEqual(keys(got.allReachableEndpoints), [...expectedAll].sort(), "allReachableEndpoints");
      assert.equal(got.hasAnyEndpoints, expectedAll.length > 0 || c.onlyRemote === true, "hasAnyEndpoints");
    });
  }

  it("keeps allReachableEndpoints free of duplicates when it merges the two sets", () => {
    const s = svc({ externalLocal: true, nodePort: 8080 });
    const got = categorizeEndpoints(
      [
        ep("10.0.0.0:80", { ...r, zones: ["zone-a"], isLocal: true }),
        ep("10.0.0.2:80", { ...r, zones: ["zone-a"] }),
        ep("10.0.0.3:80", { ...r, zones: ["zone-b"] }),
      ],
      s,
      { name: "node-1", zone: "zone-a" },
    );
    assert.deepEqual(
      got.allReachableEndpoints.map((e) => e.key),
      ["10.0.0.0:80", "10.0.0.2:80"],
    );
  });
});
