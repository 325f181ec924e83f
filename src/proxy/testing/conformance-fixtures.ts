import { readFileSync } from "node:fs";
import { parseRenderInput } from "../render-input.ts";
import type { TopologySpec } from "./conformance-topology.ts";

/** A Kubernetes object as sent to the API server. */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; namespace?: string; labels?: Record<string, string>; resourceVersion?: string };
  [key: string]: unknown;
}

/**
 * The Services the conformance suite creates through the API server, with their initial
 * endpoints (pod names of `conformanceTopology`) and the LoadBalancer IPs set through `/status`
 * (there is no cloud controller: the harness plays it). Upstream's three packet-flow Services
 * are read from their input file; the suite's own Services follow, and a sentinel comes last
 * (it answering means everything before it is programmed).
 */
export interface ServiceFixture {
  /** `namespace/name`. */
  readonly key: string;
  /** The Service as created (no status). */
  readonly service: KubeObject;
  /** `status.loadBalancer.ingress` IPs, written through the `/status` subresource after creation. */
  readonly loadBalancerIPs: readonly string[];
  /** Pods whose IPs make up the Service's EndpointSlice at first. */
  readonly endpoints: readonly string[];
}

/** Namespace of the suite's own Services. */
export const conformanceNamespace = "kp";

/** Key of the Service created last, and polled until it answers before any case runs. */
export const sentinelService = `${conformanceNamespace}/sentinel`;

/** Upstream's packet-flow test objects. */
export const packetFlowInputFile = new URL(
  "../../../test/conformance/upstream/nftables-internal-external-masquerade.input.yaml",
  import.meta.url,
);

interface PortSpec {
  readonly name: string;
  readonly port: number;
  readonly targetPort?: number;
  readonly protocol?: "TCP" | "UDP";
  readonly nodePort?: number;
}

interface OwnService {
  readonly name: string;
  readonly type?: "ClusterIP" | "NodePort" | "LoadBalancer";
  readonly clusterIP: string;
  readonly ports: readonly PortSpec[];
  readonly endpoints: readonly string[];
  readonly externalIPs?: readonly string[];
  readonly loadBalancerIPs?: readonly string[];
  readonly loadBalancerSourceRanges?: readonly string[];
  readonly externalTrafficPolicy?: "Local";
  readonly internalTrafficPolicy?: "Local";
  readonly healthCheckNodePort?: number;
  readonly clientIPAffinitySeconds?: number;
}

/** The suite's own Services (namespace `kp`), beyond upstream's packet-flow ones. */
const ownServices: readonly OwnService[] = [
  // ClusterIP/NodePort/externalIP from everywhere; port 8080 → targetPort 80 as in the docs' example.
  {
    name: "web",
    type: "NodePort",
    clusterIP: "172.30.1.10",
    ports: [{ name: "http", port: 8080, targetPort: 80, nodePort: 30080 }],
    externalIPs: ["198.51.100.10"],
    endpoints: ["n1-pod1", "n1-pod2", "n2-pod1"],
  },
  {
    name: "lb-open",
    type: "LoadBalancer",
    clusterIP: "172.30.1.20",
    ports: [{ name: "http", port: 80, nodePort: 30020 }],
    loadBalancerIPs: ["198.51.100.20"],
    endpoints: ["n1-pod3", "n2-pod3"],
  },
  {
    name: "lb-allow",
    type: "LoadBalancer",
    clusterIP: "172.30.1.21",
    ports: [{ name: "http", port: 80, nodePort: 30021 }],
    loadBalancerIPs: ["198.51.100.21"],
    loadBalancerSourceRanges: ["203.0.113.0/24"],
    endpoints: ["n1-pod3", "n2-pod3"],
  },
  {
    name: "lb-deny",
    type: "LoadBalancer",
    clusterIP: "172.30.1.22",
    ports: [{ name: "http", port: 80, nodePort: 30022 }],
    loadBalancerIPs: ["198.51.100.22"],
    loadBalancerSourceRanges: ["192.0.2.0/24"],
    endpoints: ["n1-pod3", "n2-pod3"],
  },
  {
    name: "affinity",
    clusterIP: "172.30.1.30",
    ports: [{ name: "http", port: 80 }],
    clientIPAffinitySeconds: 600,
    endpoints: ["n1-pod1", "n1-pod2", "n2-pod1", "n2-pod2"],
  },
  {
    name: "empty",
    type: "NodePort",
    clusterIP: "172.30.1.40",
    ports: [{ name: "http", port: 80, nodePort: 30040 }],
    endpoints: [],
  },
  {
    name: "local",
    type: "LoadBalancer",
    clusterIP: "172.30.1.50",
    ports: [{ name: "http", port: 80, nodePort: 30050 }],
    loadBalancerIPs: ["198.51.100.50"],
    externalTrafficPolicy: "Local",
    healthCheckNodePort: 30051,
    endpoints: ["n1-pod2", "n1-pod3"],
  },
  {
    name: "itp",
    clusterIP: "172.30.1.60",
    ports: [{ name: "http", port: 80 }],
    internalTrafficPolicy: "Local",
    endpoints: ["n1-pod1", "n2-pod1"],
  },
  {
    name: "itp-remote",
    clusterIP: "172.30.1.61",
    ports: [{ name: "http", port: 80 }],
    internalTrafficPolicy: "Local",
    endpoints: ["n1-pod1"],
  },
  { name: "hairpin", clusterIP: "172.30.1.70", ports: [{ name: "http", port: 80 }], endpoints: ["n1-pod1"] },
  { name: "scale", clusterIP: "172.30.1.80", ports: [{ name: "http", port: 80 }], endpoints: ["n1-pod1"] },
  {
    name: "udp",
    type: "NodePort",
    clusterIP: "172.30.1.90",
    ports: [{ name: "dns", port: 53, targetPort: 80, protocol: "UDP", nodePort: 30090 }],
    endpoints: ["n1-pod1", "n2-pod1"],
  },
  {
    name: "udp-stale",
    clusterIP: "172.30.1.91",
    ports: [{ name: "dns", port: 53, targetPort: 80, protocol: "UDP" }],
    endpoints: ["n1-pod1"],
  },
  {
    name: "udp-first",
    clusterIP: "172.30.1.92",
    ports: [{ name: "dns", port: 53, targetPort: 80, protocol: "UDP" }],
    endpoints: [],
  },
  {
    name: "sentinel",
    clusterIP: "172.30.1.254",
    ports: [{ name: "http", port: 80 }],
    endpoints: ["n1-pod1"],
  },
];

function ownFixture(s: OwnService): ServiceFixture {
  const spec: Record<string, unknown> = {
    type: s.type ?? "ClusterIP",
    clusterIP: s.clusterIP,
    ports: s.ports.map((p) => ({
      name: p.name,
      port: p.port,
      targetPort: p.targetPort ?? p.port,
      protocol: p.protocol ?? "TCP",
      ...(p.nodePort === undefined ? {} : { nodePort: p.nodePort }),
    })),
  };
  if (s.externalIPs) spec["externalIPs"] = s.externalIPs;
  if (s.loadBalancerSourceRanges) spec["loadBalancerSourceRanges"] = s.loadBalancerSourceRanges;
  if (s.externalTrafficPolicy) spec["externalTrafficPolicy"] = s.externalTrafficPolicy;
  if (s.internalTrafficPolicy) spec["internalTrafficPolicy"] = s.internalTrafficPolicy;
  if (s.healthCheckNodePort !== undefined) spec["healthCheckNodePort"] = s.healthCheckNodePort;
  if (s.clientIPAffinitySeconds !== undefined) {
    spec["sessionAffinity"] = "ClientIP";
    spec["sessionAffinityConfig"] = { clientIP: { timeoutSeconds: s.clientIPAffinitySeconds } };
  }
  return {
    key: `${conformanceNamespace}/${s.name}`,
    service: {
      apiVersion: "v1",
      kind: "Service",
      metadata: { namespace: conformanceNamespace, name: s.name },
      spec,
    },
    loadBalancerIPs: s.loadBalancerIPs ?? [],
    endpoints: s.endpoints,
  };
}

/**
 * Upstream's packet-flow Services, made creatable: `status` moves to `loadBalancerIPs`, and
 * `healthCheckNodePort` is dropped where `externalTrafficPolicy` is not Local (the API server
 * rejects it there; upstream's fake proxier never validated). Endpoints are the pods whose IPs
 * the upstream slices list (node `test-node` is node1, `remote` node2, as the IPs imply).
 */
function upstreamFixtures(topology: TopologySpec): ServiceFixture[] {
  const { objects } = parseRenderInput(readFileSync(packetFlowInputFile, "utf8"), "packet-flow input");
  const slices = objects.filter((o) => o.kind === "EndpointSlice") as KubeObject[];
  return (objects.filter((o) => o.kind === "Service") as KubeObject[]).map((raw) => {
    const svc = structuredClone(raw);
    const ns = svc.metadata?.namespace ?? "default";
    const name = svc.metadata?.name ?? "";
    const spec = svc["spec"] as Record<string, unknown>;
    if (spec["externalTrafficPolicy"] !== "Local") delete spec["healthCheckNodePort"];
    const status = svc["status"] as { loadBalancer?: { ingress?: { ip: string }[] } } | undefined;
    delete svc["status"];
    const ips = slices
      .filter(
        (s) => s.metadata?.namespace === ns && s.metadata.labels?.["kubernetes.io/service-name"] === name,
      )
      .flatMap((s) => (s["endpoints"] as { addresses: string[] }[]).flatMap((e) => e.addresses));
    const endpoints = ips.map((ip) => {
      const pod = topology.pods.find((p) => p.ip === ip);
      if (pod === undefined) throw new Error(`Cannot place upstream endpoint ${ip}: no pod with that IP`);
      return pod.name;
    });
    return {
      key: `${ns}/${name}`,
      service: svc,
      loadBalancerIPs: (status?.loadBalancer?.ingress ?? []).map((i) => i.ip),
      endpoints,
    };
  });
}

/** Every Service of the suite, in creation order (the sentinel last). */
export function conformanceFixtures(topology: TopologySpec): ServiceFixture[] {
  return [...upstreamFixtures(topology), ...ownServices.map(ownFixture)];
}

/**
 * The EndpointSlice of a fixture's Service holding `pods` (ready, with their node names so that
 * traffic policies can tell local from remote). Its ports are the Service's target ports.
 */
export function endpointSliceFor(
  fixture: ServiceFixture,
  pods: readonly string[],
  topology: TopologySpec,
): KubeObject {
  const ns = fixture.service.metadata?.namespace ?? "default";
  const name = fixture.service.metadata?.name ?? "";
  const ports = (
    fixture.service["spec"] as {
      ports: { name?: string; port: number; targetPort?: number; protocol?: string }[];
    }
  ).ports;
  return {
    apiVersion: "discovery.k8s.io/v1",
    kind: "EndpointSlice",
    metadata: { namespace: ns, name: `${name}-conformance`, labels: { "kubernetes.io/service-name": name } },
    addressType: "IPv4",
    endpoints: pods.map((podName) => {
      const pod = topology.pods.find((p) => p.name === podName);
      if (pod === undefined) throw new Error(`Cannot build endpoints of ${fixture.key}: no pod ${podName}`);
      return { addresses: [pod.ip], nodeName: pod.node, conditions: { ready: true } };
    }),
    ports: ports.map((p) => ({
      ...(p.name === undefined ? {} : { name: p.name }),
      port: typeof p.targetPort === "number" ? p.targetPort : p.port,
      protocol: p.protocol ?? "TCP",
    })),
  };
}
