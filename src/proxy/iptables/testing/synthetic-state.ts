import { endpointKey, type Endpoint } from "../../../model/endpoint.ts";
import type { NodeInfo } from "../../../model/node-info.ts";
import type { ProxyState } from "../../../model/proxy-state.ts";
import { servicePortNameString } from "../../../model/service-port-name.ts";
import type { ServicePort } from "../../../model/service-port.ts";

/** Options of a generated cluster. */
export interface SyntheticStateOptions {
  readonly services: number;
  readonly endpointsPerService: number;
  /** Every `nodePortEvery`-th service is a NodePort (0: none). */
  readonly nodePortEvery?: number;
  /** The node (default: `node-a`, 10.0.0.2, pods 10.244.0.0/24). */
  readonly node?: NodeInfo;
}

const defaultNode: NodeInfo = {
  name: "node-a",
  labels: {},
  nodeIPs: ["10.0.0.2"],
  podCIDRs: ["10.244.0.0/24"],
  localAddresses: ["127.0.0.1/8", "10.0.0.2/24"],
  deleting: false,
};

/** The service port of synthetic service `i` (ClusterIP 10.96.x.y:80, namespace `bench`). */
export function syntheticServicePort(i: number, options: { nodePort?: number } = {}): ServicePort {
  const name = { namespace: "bench", name: `svc-${i}`, port: "http", protocol: "TCP" as const };
  const nodePort = options.nodePort ?? 0;
  return {
    name,
    key: servicePortNameString(name),
    serviceKey: `bench/svc-${i}`,
    family: "IPv4",
    type: nodePort > 0 ? "NodePort" : "ClusterIP",
    clusterIP: `10.96.${(i >> 8) & 255}.${i & 255}`,
    port: 80,
    protocol: "TCP",
    targetPort: 8080,
    nodePort,
    externalIPs: [],
    loadBalancerVIPs: [],
    loadBalancerSourceRanges: [],
    stickyMaxAgeSeconds: 0,
    externalPolicyLocal: false,
    internalPolicyLocal: false,
    healthCheckNodePort: 0,
    trafficDistribution: undefined,
    scheduler: undefined,
  };
}

/** Endpoint `j` of synthetic service `i` (10.{128+...}.x.y:8080), ready, on another node. */
export function syntheticEndpoint(i: number, j: number, port = 8080): Endpoint {
  const n = i * 64 + j;
  const ip = `10.${128 + ((n >> 16) & 127)}.${(n >> 8) & 255}.${n & 255}`;
  return {
    ip,
    port,
    key: endpointKey(ip, port),
    ready: true,
    serving: true,
    terminating: false,
    isLocal: false,
    nodeName: "node-b",
    zone: undefined,
    zoneHints: new Set(),
    nodeHints: new Set(),
    hostname: undefined,
    targetRef: undefined,
  };
}

/**
 * A cluster of `services` ClusterIP services with `endpointsPerService` endpoints each, for
 * benchmarks and scale tests (the rules are what matter, not the objects, so the model is built
 * directly).
 */
export function syntheticState(options: SyntheticStateOptions): ProxyState {
  const services = new Map<string, ServicePort>();
  const endpoints = new Map<string, Endpoint[]>();
  for (let i = 0; i < options.services; i++) {
    const every = options.nodePortEvery ?? 0;
    const svc = syntheticServicePort(i, {
      nodePort: every > 0 && i % every === 0 ? 30000 + ((i / every) % 2768) : 0,
    });
    services.set(svc.key, svc);
    const eps: Endpoint[] = [];
    for (let j = 0; j < options.endpointsPerService; j++) eps.push(syntheticEndpoint(i, j));
    endpoints.set(
      svc.key,
      eps.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)),
    );
  }
  return { family: "IPv4", services, endpoints, node: options.node ?? defaultNode, serviceCIDRs: [] };
}

/** A copy of `state` in which endpoint `j` of service `i` has moved to another address. */
export function withMovedEndpoint(state: ProxyState, i: number, j: number, generation: number): ProxyState {
  const key = syntheticServicePort(i).key;
  const endpoints = new Map(state.endpoints);
  const eps = [...(endpoints.get(key) ?? [])];
  const moved = syntheticEndpoint(i, j, 8080 + generation);
  eps[j] = moved;
  endpoints.set(
    key,
    eps.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)),
  );
  return { ...state, endpoints };
}
