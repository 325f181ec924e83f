import type { KubernetesObject, V1EndpointSlice, V1Service } from "@kubernetes/client-node";

/** A port as tests write it: `http:80/TCP`-like fields, protocol defaulting to TCP. */
export interface FixturePort {
  readonly name?: string;
  readonly port: number;
  readonly protocol?: "TCP" | "UDP" | "SCTP";
}

/** A Service with ClusterIPs (the first is `clusterIP`). */
export function clusterIPService(
  namespace: string,
  name: string,
  clusterIPs: readonly string[],
  ports: readonly FixturePort[],
): V1Service {
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: { namespace, name },
    spec: {
      type: "ClusterIP",
      clusterIP: clusterIPs[0] ?? "",
      clusterIPs: [...clusterIPs],
      // What an API server requires of explicit ClusterIPs, dual-stack ones in particular.
      ipFamilyPolicy: clusterIPs.length > 1 ? "RequireDualStack" : "SingleStack",
      ipFamilies: clusterIPs.map((ip) => (ip.includes(":") ? "IPv6" : "IPv4")),
      ports: ports.map((p) => ({ ...p, protocol: p.protocol ?? "TCP" })),
    },
  };
}

/** A headless Service (`clusterIP: None`). */
export function headlessService(
  namespace: string,
  name: string,
  ports: readonly FixturePort[],
  options: { publishNotReadyAddresses?: boolean } = {},
): V1Service {
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: { namespace, name },
    spec: {
      type: "ClusterIP",
      clusterIP: "None",
      clusterIPs: ["None"],
      ports: ports.map((p) => ({ ...p, protocol: p.protocol ?? "TCP" })),
      ...(options.publishNotReadyAddresses ? { publishNotReadyAddresses: true } : {}),
    },
  };
}

/** An ExternalName Service. */
export function externalNameService(namespace: string, name: string, externalName: string): V1Service {
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: { namespace, name },
    spec: { type: "ExternalName", externalName },
  };
}

/** One endpoint as tests write it. */
export interface FixtureEndpoint {
  readonly ip: string;
  readonly ready?: boolean;
  readonly hostname?: string;
  readonly pod?: string;
}

/** An EndpointSlice of Service `service`, labelled as the EndpointSlice controller labels it. */
export function endpointSlice(
  namespace: string,
  service: string,
  name: string,
  endpoints: readonly FixtureEndpoint[],
  ports: readonly FixturePort[],
  addressType: "IPv4" | "IPv6" = "IPv4",
): V1EndpointSlice {
  return {
    apiVersion: "discovery.k8s.io/v1",
    kind: "EndpointSlice",
    metadata: { namespace, name, labels: { "kubernetes.io/service-name": service } },
    addressType,
    ports: ports.map((p) => ({ ...p, protocol: p.protocol ?? "TCP" })),
    endpoints: endpoints.map((e) => ({
      addresses: [e.ip],
      conditions: { ready: e.ready ?? true },
      ...(e.hostname !== undefined ? { hostname: e.hostname } : {}),
      ...(e.pod !== undefined ? { targetRef: { kind: "Pod", namespace, name: e.pod } } : {}),
    })),
  };
}

/** The REST collection path of an object, for creating it through an API server. */
export function collectionPath(obj: KubernetesObject): string {
  const ns = obj.metadata?.namespace ?? "";
  switch (obj.kind) {
    case "Namespace":
      return "/api/v1/namespaces";
    case "EndpointSlice":
      return `/apis/discovery.k8s.io/v1/namespaces/${ns}/endpointslices`;
    case "Pod":
      return `/api/v1/namespaces/${ns}/pods`;
    default:
      return `/api/v1/namespaces/${ns}/services`;
  }
}
