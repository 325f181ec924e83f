import type { IPFamily, Protocol } from "./protocol.ts";
import type { ServicePortName } from "./service-port-name.ts";

/** Service types, as in `spec.type`. */
export type ServiceType = "ClusterIP" | "NodePort" | "LoadBalancer" | "ExternalName";

/**
 * The node-local view of one port of one Service, for one IP family: everything a proxy mode
 * needs to program it. Upstream: `proxy.ServicePort` / `BaseServicePortInfo`.
 *
 * Only addresses of `family` appear here; a dual-stack Service yields one ServicePort per family.
 */
export interface ServicePort {
  readonly name: ServicePortName;
  /** `servicePortNameString(name)`: the map key and chain-name base. */
  readonly key: string;
  /** `namespace/name` of the Service. */
  readonly serviceKey: string;
  readonly family: IPFamily;
  readonly type: ServiceType;
  readonly clusterIP: string;
  readonly port: number;
  readonly protocol: Protocol;
  /** `spec.ports[].targetPort` as written (number or name); informational, endpoints carry the real port. */
  readonly targetPort: number | string;
  /** 0 when the port has no NodePort. */
  readonly nodePort: number;
  readonly externalIPs: readonly string[];
  /** LoadBalancer ingress IPs with `ipMode` VIP (or unset), of this family. */
  readonly loadBalancerVIPs: readonly string[];
  /** CIDRs, trimmed, of this family. */
  readonly loadBalancerSourceRanges: readonly string[];
  /** 0 when session affinity is None; else `sessionAffinityConfig.clientIP.timeoutSeconds` (default 10800). */
  readonly stickyMaxAgeSeconds: number;
  /** `externalTrafficPolicy: Local` on an externally accessible Service. */
  readonly externalPolicyLocal: boolean;
  /** `internalTrafficPolicy: Local`. */
  readonly internalPolicyLocal: boolean;
  /** Non-zero only when the Service needs a health check (LoadBalancer with eTP Local). */
  readonly healthCheckNodePort: number;
  /** `spec.trafficDistribution`, if any (e.g. `PreferClose`, `PreferSameZone`, `PreferSameNode`). */
  readonly trafficDistribution: string | undefined;
  /** The Service's `kproxy.io/scheduler` annotation, if any (userspace/IPVS scheduler override). */
  readonly scheduler: string | undefined;
}

/** True when the port can be reached from outside the cluster (NodePort, externalIPs or LB IPs). */
export function externallyAccessible(svc: ServicePort): boolean {
  return svc.nodePort > 0 || svc.loadBalancerVIPs.length > 0 || svc.externalIPs.length > 0;
}

/** True when some traffic to the port uses cluster-wide endpoints (upstream `UsesClusterEndpoints`). */
export function usesClusterEndpoints(svc: ServicePort): boolean {
  // Only `internalTrafficPolicy: Local` with no external access avoids the cluster-wide set.
  return !svc.internalPolicyLocal || externallyAccessible(svc);
}

/** True when some traffic to the port uses node-local endpoints (upstream `UsesLocalEndpoints`). */
export function usesLocalEndpoints(svc: ServicePort): boolean {
  return svc.internalPolicyLocal || (svc.externalPolicyLocal && externallyAccessible(svc));
}
