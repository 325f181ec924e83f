import type { V1EndpointSlice, V1Service } from "@kubernetes/client-node";

// Builders of API objects for the runtime's unit tests (trackers, syncer).

/** A ClusterIP Service with one TCP port per entry of `ports` (name → port). */
export function makeService(
  namespace: string,
  name: string,
  o: {
    clusterIP?: string;
    clusterIPs?: string[];
    ports?: Array<{ name?: string; port: number; protocol?: string; nodePort?: number }>;
    type?: string;
    annotations?: Record<string, string>;
    labels?: Record<string, string>;
    externalTrafficPolicy?: string;
    healthCheckNodePort?: number;
    resourceVersion?: string;
  } = {},
): V1Service {
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: {
      namespace,
      name,
      ...(o.annotations ? { annotations: o.annotations } : {}),
      ...(o.labels ? { labels: o.labels } : {}),
      ...(o.resourceVersion ? { resourceVersion: o.resourceVersion } : {}),
    },
    spec: {
      type: o.type ?? "ClusterIP",
      clusterIP: o.clusterIP ?? o.clusterIPs?.[0] ?? "10.96.0.10",
      ...(o.clusterIPs ? { clusterIPs: o.clusterIPs } : {}),
      ports: (o.ports ?? [{ port: 80 }]).map((p) => ({
        port: p.port,
        protocol: p.protocol ?? "TCP",
        ...(p.name !== undefined ? { name: p.name } : {}),
        ...(p.nodePort !== undefined ? { nodePort: p.nodePort } : {}),
      })),
      ...(o.externalTrafficPolicy ? { externalTrafficPolicy: o.externalTrafficPolicy } : {}),
      ...(o.healthCheckNodePort ? { healthCheckNodePort: o.healthCheckNodePort } : {}),
    },
  };
}

/** An EndpointSlice of Service `namespace/service` with endpoints `ips` on port `port` (named `portName`). */
export function makeSlice(
  namespace: string,
  service: string,
  sliceName: string,
  ips: Array<string | { ip: string; ready?: boolean; nodeName?: string; terminating?: boolean }>,
  o: {
    port?: number;
    portName?: string;
    addressType?: string;
    annotations?: Record<string, string>;
    labels?: Record<string, string>;
  } = {},
): V1EndpointSlice {
  return {
    apiVersion: "discovery.k8s.io/v1",
    kind: "EndpointSlice",
    metadata: {
      namespace,
      name: sliceName,
      labels: o.labels ?? { "kubernetes.io/service-name": service },
      ...(o.annotations ? { annotations: o.annotations } : {}),
    },
    addressType: o.addressType ?? "IPv4",
    ports: [
      { port: o.port ?? 8080, protocol: "TCP", ...(o.portName !== undefined ? { name: o.portName } : {}) },
    ],
    endpoints: ips.map((e) => {
      const x = typeof e === "string" ? { ip: e } : e;
      return {
        addresses: [x.ip],
        conditions: {
          ready: x.ready ?? true,
          ...(x.terminating !== undefined ? { terminating: x.terminating } : {}),
        },
        ...(x.nodeName ? { nodeName: x.nodeName } : {}),
      };
    }),
  };
}
