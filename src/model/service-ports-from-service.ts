import type { V1Service } from "@kubernetes/client-node";
import { cidrFamilyOf, ipFamilyOf } from "./ip.ts";
import { isProtocol, type IPFamily } from "./protocol.ts";
import { namespacedName, servicePortNameString, type ServicePortName } from "./service-port-name.ts";
import type { ServicePort, ServiceType } from "./service-port.ts";

/** Label that hands a Service to another proxy; kproxy (like kube-proxy) leaves such Services alone. */
export const labelServiceProxyName = "service.kubernetes.io/service-proxy-name";
/** Annotation with which a Service picks its own load-balancing scheduler (userspace, IPVS). */
export const annotationScheduler = "kproxy.io/scheduler";
/** Default `sessionAffinityConfig.clientIP.timeoutSeconds`, as kube-apiserver defaults it. */
export const defaultStickyMaxAgeSeconds = 10800;

/** The outcome of reading one Service: its ports for the family, or why none are proxied. */
export type ServicePortsResult =
  | { readonly kind: "ports"; readonly ports: readonly ServicePort[] }
  /** Not proxied by design (headless, ExternalName, another proxy's), not an error. */
  | { readonly kind: "ignored"; readonly reason: string }
  /** Malformed: skipped with this reason, logged and counted by the caller. */
  | { readonly kind: "invalid"; readonly reason: string };

const serviceTypes: readonly ServiceType[] = ["ClusterIP", "NodePort", "LoadBalancer", "ExternalName"];

/**
 * Reads the ports of one Service for one IP family, as upstream's `newBaseServiceInfo` does.
 * Never throws: a malformed Service is reported as `invalid` so that it cannot affect others.
 */
export function servicePortsFromService(svc: V1Service, family: IPFamily): ServicePortsResult {
  const namespace = svc.metadata?.namespace ?? "";
  const name = svc.metadata?.name ?? "";
  if (namespace === "" || name === "")
    return { kind: "invalid", reason: "metadata.namespace and metadata.name are required" };
  const spec = svc.spec;
  if (spec === undefined) return { kind: "invalid", reason: "spec is missing" };
  if (svc.metadata?.labels?.[labelServiceProxyName] !== undefined) {
    return { kind: "ignored", reason: `labelled ${labelServiceProxyName}` };
  }
  const type = (spec.type ?? "ClusterIP") as ServiceType;
  if (!serviceTypes.includes(type))
    return {
      kind: "invalid",
      reason: `spec.type ${JSON.stringify(spec.type)} is not one of ${serviceTypes.join(", ")}`,
    };
  if (type === "ExternalName") return { kind: "ignored", reason: "ExternalName Services are not proxied" };
  const allClusterIPs = spec.clusterIPs?.length ? spec.clusterIPs : spec.clusterIP ? [spec.clusterIP] : [];
  if (allClusterIPs.length === 0 || allClusterIPs[0] === "None") {
    return { kind: "ignored", reason: "headless Services are not proxied" };
  }
  const badIP = allClusterIPs.find((ip) => ipFamilyOf(ip) === undefined);
  if (badIP !== undefined)
    return {
      kind: "invalid",
      reason: `spec.clusterIPs contains ${JSON.stringify(badIP)}, not an IP address`,
    };
  const clusterIP = allClusterIPs.find((ip) => ipFamilyOf(ip) === family);
  if (clusterIP === undefined) return { kind: "ignored", reason: `no ${family} cluster IP` };

  const ofFamily = (ips: readonly string[] | undefined): string[] =>
    (ips ?? []).map((ip) => ip.trim()).filter((ip) => ipFamilyOf(ip) === family);
  const externalIPs = ofFamily(spec.externalIPs);
  const loadBalancerVIPs =
    type === "LoadBalancer"
      ? ofFamily(
          (svc.status?.loadBalancer?.ingress ?? [])
            // ipMode Proxy means the load balancer delivers to the node itself: no VIP rules (KEP-1860).
            .filter((ing) => ing.ip !== undefined && ing.ip !== "" && (ing.ipMode ?? "VIP") === "VIP")
            .map((ing) => ing.ip ?? ""),
        )
      : [];
  const sourceRanges = (spec.loadBalancerSourceRanges ?? []).map((r) => r.trim());
  const badRange = sourceRanges.find((r) => cidrFamilyOf(r) === undefined);
  if (badRange !== undefined) {
    return {
      kind: "invalid",
      reason: `spec.loadBalancerSourceRanges contains ${JSON.stringify(badRange)}, not a CIDR`,
    };
  }
  const loadBalancerSourceRanges = sourceRanges.filter((r) => cidrFamilyOf(r) === family);

  let stickyMaxAgeSeconds = 0;
  if (spec.sessionAffinity === "ClientIP") {
    stickyMaxAgeSeconds = spec.sessionAffinityConfig?.clientIP?.timeoutSeconds ?? defaultStickyMaxAgeSeconds;
  }
  const externallyAccessibleType = type === "NodePort" || type === "LoadBalancer" || externalIPs.length > 0;
  const externalPolicyLocal = externallyAccessibleType && spec.externalTrafficPolicy === "Local";
  const internalPolicyLocal = spec.internalTrafficPolicy === "Local";
  // Only a LoadBalancer with eTP Local has a health check (upstream apiservice.NeedsHealthCheck).
  const healthCheckNodePort =
    type === "LoadBalancer" && spec.externalTrafficPolicy === "Local" ? (spec.healthCheckNodePort ?? 0) : 0;

  const specPorts = spec.ports ?? [];
  if (specPorts.length === 0) return { kind: "invalid", reason: "spec.ports is empty" };
  const ports: ServicePort[] = [];
  for (const [i, p] of specPorts.entries()) {
    const protocol = p.protocol ?? "TCP";
    if (!isProtocol(protocol))
      return {
        kind: "invalid",
        reason: `spec.ports[${i}].protocol ${JSON.stringify(protocol)} is not TCP, UDP or SCTP`,
      };
    if (!Number.isInteger(p.port) || p.port < 1 || p.port > 65535) {
      return { kind: "invalid", reason: `spec.ports[${i}].port ${JSON.stringify(p.port)} is not in 1-65535` };
    }
    const nodePort = p.nodePort ?? 0;
    if (!Number.isInteger(nodePort) || nodePort < 0 || nodePort > 65535) {
      return {
        kind: "invalid",
        reason: `spec.ports[${i}].nodePort ${JSON.stringify(p.nodePort)} is not in 1-65535`,
      };
    }
    const spn: ServicePortName = { namespace, name, port: p.name ?? "", protocol };
    ports.push({
      name: spn,
      key: servicePortNameString(spn),
      serviceKey: namespacedName(namespace, name),
      family,
      type,
      clusterIP,
      port: p.port,
      protocol,
      targetPort: (p.targetPort as number | string | undefined) ?? p.port,
      nodePort: type === "NodePort" || type === "LoadBalancer" ? nodePort : 0,
      externalIPs,
      loadBalancerVIPs,
      loadBalancerSourceRanges,
      stickyMaxAgeSeconds,
      externalPolicyLocal,
      internalPolicyLocal,
      healthCheckNodePort,
      trafficDistribution: spec.trafficDistribution,
      scheduler: svc.metadata?.annotations?.[annotationScheduler],
    });
  }
  return { kind: "ports", ports };
}
