import { ipFamilyOf } from "../../model/ip.ts";
import type { KubeObject } from "../registry/resource-strategy.ts";
import type { ServiceSpec } from "./service-fields.ts";

/** Everything a stored Service holds, as `ip:…`, `port:…` and `lb:…` identifiers. */
export function heldBy(svc: KubeObject): string[] {
  const spec = (svc.spec ?? {}) as ServiceSpec;
  const ids: string[] = [];
  if (spec.type !== "ExternalName") {
    const ips = Array.isArray(spec.clusterIPs) ? spec.clusterIPs : spec.clusterIP ? [spec.clusterIP] : [];
    for (const ip of ips) if (typeof ip === "string" && ipFamilyOf(ip) !== undefined) ids.push(`ip:${ip}`);
  }
  if (spec.type === "NodePort" || spec.type === "LoadBalancer") {
    for (const p of Array.isArray(spec.ports) ? spec.ports : []) {
      if (typeof p === "object" && p !== null && Number.isInteger(p.nodePort) && (p.nodePort ?? 0) > 0) {
        ids.push(`port:${p.nodePort}`);
      }
    }
  }
  if (spec.type === "LoadBalancer") {
    if (Number.isInteger(spec.healthCheckNodePort) && (spec.healthCheckNodePort ?? 0) > 0) {
      ids.push(`port:${spec.healthCheckNodePort}`);
    }
    const status = svc.status as { loadBalancer?: { ingress?: Array<{ ip?: unknown }> } } | undefined;
    for (const ing of status?.loadBalancer?.ingress ?? []) {
      if (typeof ing?.ip === "string" && ipFamilyOf(ing.ip) !== undefined) ids.push(`lb:${ing.ip}`);
    }
  }
  return [...new Set(ids)];
}
