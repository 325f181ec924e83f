import type { KubeObject } from "../registry/resource-strategy.ts";

/** The Service port fields allocation reads and writes (as stored JSON: anything may be malformed). */
export interface ServicePortSpec {
  name?: string;
  port?: unknown;
  protocol?: string;
  nodePort?: number;
  targetPort?: number | string;
  [key: string]: unknown;
}

/** The Service spec fields allocation reads and writes. */
export interface ServiceSpec {
  type?: string;
  clusterIP?: string;
  clusterIPs?: string[];
  ipFamilies?: string[];
  ipFamilyPolicy?: string;
  ports?: ServicePortSpec[];
  selector?: Record<string, string>;
  healthCheckNodePort?: number;
  externalTrafficPolicy?: string;
  allocateLoadBalancerNodePorts?: boolean;
  loadBalancerIP?: string;
  [key: string]: unknown;
}

/** `obj[key]` as an object, created (replacing any non-object) when missing. */
export function asRecord(obj: Record<string, unknown>, key: string): Record<string, unknown> {
  const v = obj[key];
  if (typeof v === "object" && v !== null && !Array.isArray(v)) return v as Record<string, unknown>;
  const created: Record<string, unknown> = {};
  obj[key] = created;
  return created;
}

/** `namespace/name`: who holds an allocation. */
export function serviceOwner(svc: KubeObject): string {
  return `${svc.metadata?.namespace ?? ""}/${svc.metadata?.name ?? ""}`;
}
