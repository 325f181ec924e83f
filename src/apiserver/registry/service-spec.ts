import { asArray, asNumber, asRecord, asString } from "./json-access.ts";
import type { KubeObject } from "./resource-strategy.ts";

/**
 * Read-only views of a Service's spec fields as plain JSON, shared by defaulting, update
 * preparation and validation. Missing or mistyped fields read as empty.
 */

/** `spec` as a record (empty when missing). */
export function serviceSpec(obj: KubeObject): Record<string, unknown> {
  return asRecord(obj.spec) ?? {};
}

/** `spec.type` ("" when missing). */
export function serviceType(obj: KubeObject): string {
  return asString(serviceSpec(obj).type) ?? "";
}

/** `spec.clusterIPs` as strings. */
export function clusterIPsOf(obj: KubeObject): string[] {
  return asArray(serviceSpec(obj).clusterIPs).filter((ip): ip is string => typeof ip === "string");
}

/** Every Service type but ExternalName has (or is allocated) a cluster IP, "None" included. */
export function needsClusterIP(obj: KubeObject): boolean {
  return serviceType(obj) !== "ExternalName";
}

/** NodePort and LoadBalancer Services are reachable on node ports. */
export function needsNodePort(obj: KubeObject): boolean {
  const type = serviceType(obj);
  return type === "NodePort" || type === "LoadBalancer";
}

/** A LoadBalancer Service with `externalTrafficPolicy: Local` gets a health-check node port. */
export function needsHealthCheckNodePort(obj: KubeObject): boolean {
  return serviceType(obj) === "LoadBalancer" && serviceSpec(obj).externalTrafficPolicy === "Local";
}

/** Reachable from outside the cluster: node ports, load balancers, or external IPs. */
export function externallyAccessible(obj: KubeObject): boolean {
  const type = serviceType(obj);
  return (
    type === "NodePort" ||
    type === "LoadBalancer" ||
    (type === "ClusterIP" && asArray(serviceSpec(obj).externalIPs).length > 0)
  );
}

/** Headless: `clusterIPs` is exactly `["None"]`. */
export function isHeadless(obj: KubeObject): boolean {
  const ips = clusterIPsOf(obj);
  return ips.length === 1 && ips[0] === "None";
}

/** `spec.ports[i]` records (non-objects read as empty records so that indices stay aligned). */
export function servicePorts(obj: KubeObject): Record<string, unknown>[] {
  return asArray(serviceSpec(obj).ports).map((p) => asRecord(p) ?? {});
}

/** A port's nodePort, 0 when unset. */
export function nodePortOf(port: Record<string, unknown>): number {
  return asNumber(port.nodePort) ?? 0;
}
