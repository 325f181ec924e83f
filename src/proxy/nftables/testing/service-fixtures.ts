import type { KubernetesObject } from "@kubernetes/client-node";
import type { NodeInfo } from "../../../model/node-info.ts";
import { proxyStateFromObjects } from "../../../model/proxy-state-from-objects.ts";
import type { ProxyState } from "../../../model/proxy-state.ts";

/** A compact description of one single-port Service and its endpoints, for tests and benchmarks. */
export interface FixtureService {
  readonly namespace: string;
  readonly name: string;
  readonly clusterIP: string;
  readonly port: number;
  readonly protocol?: "TCP" | "UDP";
  readonly type?: "ClusterIP" | "NodePort" | "LoadBalancer";
  readonly nodePort?: number;
  readonly externalIPs?: readonly string[];
  readonly loadBalancerIPs?: readonly string[];
  readonly sourceRanges?: readonly string[];
  readonly externalTrafficPolicyLocal?: boolean;
  readonly affinitySeconds?: number;
  readonly endpoints: readonly {
    readonly ip: string;
    readonly port: number;
    readonly nodeName?: string;
    /** `conditions.ready` (default true). */
    readonly ready?: boolean;
  }[];
}

/** The Service and EndpointSlice objects of the fixtures. */
export function fixtureObjects(services: readonly FixtureService[]): KubernetesObject[] {
  const out: KubernetesObject[] = [];
  for (const s of services) {
    const protocol = s.protocol ?? "TCP";
    out.push({
      apiVersion: "v1",
      kind: "Service",
      metadata: { namespace: s.namespace, name: s.name },
      spec: {
        type: s.type ?? "ClusterIP",
        clusterIP: s.clusterIP,
        ports: [{ name: "p", port: s.port, protocol, ...(s.nodePort ? { nodePort: s.nodePort } : {}) }],
        ...(s.externalIPs ? { externalIPs: [...s.externalIPs] } : {}),
        ...(s.sourceRanges ? { loadBalancerSourceRanges: [...s.sourceRanges] } : {}),
        ...(s.externalTrafficPolicyLocal ? { externalTrafficPolicy: "Local" } : {}),
        ...(s.affinitySeconds
          ? {
              sessionAffinity: "ClientIP",
              sessionAffinityConfig: { clientIP: { timeoutSeconds: s.affinitySeconds } },
            }
          : {}),
      },
      ...(s.loadBalancerIPs
        ? { status: { loadBalancer: { ingress: s.loadBalancerIPs.map((ip) => ({ ip })) } } }
        : {}),
    } as KubernetesObject);
    if (s.endpoints.length === 0) continue;
    out.push({
      apiVersion: "discovery.k8s.io/v1",
      kind: "EndpointSlice",
      metadata: {
        namespace: s.namespace,
        name: `${s.name}-1`,
        labels: { "kubernetes.io/service-name": s.name },
      },
      addressType: "IPv4",
      endpoints: s.endpoints.map((e) => ({
        addresses: [e.ip],
        ...(e.nodeName ? { nodeName: e.nodeName } : {}),
        ...(e.ready === false ? { conditions: { ready: false } } : {}),
      })),
      ports: [{ name: "p", port: s.endpoints[0]?.port ?? s.port, protocol }],
    } as KubernetesObject);
  }
  return out;
}

/** The IPv4 ProxyState of the fixtures as seen from `node`. */
export function fixtureState(
  services: readonly FixtureService[],
  node: NodeInfo,
  serviceCIDRs: readonly string[] = [],
): ProxyState {
  return proxyStateFromObjects(fixtureObjects(services), { family: "IPv4", node, serviceCIDRs }).state;
}

/** `n` ClusterIP services with `endpointsEach` endpoints, names zero-padded so that sizes compare. */
export function manyServices(n: number, endpointsEach = 2): FixtureService[] {
  return Array.from({ length: n }, (_, i) => ({
    namespace: "bench",
    name: `svc-${String(i).padStart(6, "0")}`,
    clusterIP: `172.${16 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`,
    port: 80,
    endpoints: Array.from({ length: endpointsEach }, (_, j) => ({
      ip: `10.${100 + j}.${(i >> 8) & 255}.${i & 255}`,
      port: 8080,
    })),
  }));
}
