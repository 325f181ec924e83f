import type { KubeObject } from "../registry/resource-strategy.ts";
import type { ServicePortSpec, ServiceSpec } from "./service-fields.ts";

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function needsNodePorts(spec: ServiceSpec): boolean {
  return spec.type === "NodePort" || spec.type === "LoadBalancer";
}

function needsHealthCheckNodePort(spec: ServiceSpec): boolean {
  return spec.type === "LoadBalancer" && spec.externalTrafficPolicy === "Local";
}

function portsOf(spec: ServiceSpec): ServicePortSpec[] {
  return Array.isArray(spec.ports) ? spec.ports.filter((p) => typeof p === "object" && p !== null) : [];
}

/**
 * On a type change, drops the fields the new type cannot have when the client left them as they
 * were (kube-apiserver's `dropTypeDependentFields`): so that `kubectl apply` of `type: ClusterIP`
 * over a NodePort Service releases its NodePorts, and ExternalName releases the ClusterIP.
 */
export function dropTypeDependentFields(
  spec: ServiceSpec,
  oldSpec: ServiceSpec,
  svc: KubeObject,
  old: KubeObject | undefined,
): void {
  if (spec.type === "ExternalName" && oldSpec.type !== "ExternalName") {
    if (same(spec.clusterIP, oldSpec.clusterIP) && same(spec.clusterIPs, oldSpec.clusterIPs)) {
      delete spec.clusterIP;
      delete spec.clusterIPs;
    }
    if (same(spec.ipFamilies, oldSpec.ipFamilies)) delete spec.ipFamilies;
    if (same(spec.ipFamilyPolicy, oldSpec.ipFamilyPolicy)) delete spec.ipFamilyPolicy;
  }
  if (needsNodePorts(oldSpec) && !needsNodePorts(spec)) {
    const oldPorts = new Set(portsOf(oldSpec).map((p) => p.nodePort));
    const ports = portsOf(spec);
    if (ports.every((p) => p.nodePort === undefined || oldPorts.has(p.nodePort))) {
      for (const p of ports) delete p.nodePort;
    }
    if (same(spec.externalTrafficPolicy, oldSpec.externalTrafficPolicy)) delete spec.externalTrafficPolicy;
  }
  if (needsHealthCheckNodePort(oldSpec) && !needsHealthCheckNodePort(spec)) {
    if (same(spec.healthCheckNodePort, oldSpec.healthCheckNodePort)) delete spec.healthCheckNodePort;
  }
  if (oldSpec.type === "LoadBalancer" && spec.type !== "LoadBalancer") {
    if (same(spec.allocateLoadBalancerNodePorts, oldSpec.allocateLoadBalancerNodePorts)) {
      delete spec.allocateLoadBalancerNodePorts;
    }
    const status = svc.status as { loadBalancer?: unknown } | undefined;
    const oldStatus = old?.status as { loadBalancer?: unknown } | undefined;
    if (status !== undefined && same(status.loadBalancer, oldStatus?.loadBalancer)) status.loadBalancer = {};
  }
}

/**
 * Keeps what was allocated when an update leaves it out (kube-apiserver's
 * `patchAllocatedValues`): a `PUT` of a manifest without `clusterIP` or `nodePort` keeps the
 * values the Service already has, NodePorts matched by port name.
 */
export function patchAllocatedValues(spec: ServiceSpec, oldSpec: ServiceSpec): void {
  if (spec.type !== "ExternalName" && oldSpec.type !== "ExternalName") {
    if (spec.clusterIP === undefined || spec.clusterIP === "") {
      if (oldSpec.clusterIP !== undefined) spec.clusterIP = oldSpec.clusterIP;
    }
    if (
      (!Array.isArray(spec.clusterIPs) || spec.clusterIPs.length === 0) &&
      Array.isArray(oldSpec.clusterIPs)
    ) {
      spec.clusterIPs = [...oldSpec.clusterIPs];
    }
  }
  if (needsNodePorts(oldSpec) && needsNodePorts(spec)) {
    const inNew = new Set(portsOf(spec).map((p) => p.nodePort));
    const byName = new Map<unknown, number | undefined>(
      portsOf(oldSpec).map((p) => [p.name ?? "", p.nodePort]),
    );
    for (const p of portsOf(spec)) {
      if (p.nodePort !== undefined && p.nodePort !== 0) continue;
      const previous = byName.get(p.name ?? "");
      if (previous !== undefined && !inNew.has(previous)) p.nodePort = previous;
    }
  }
  if (needsHealthCheckNodePort(oldSpec) && needsHealthCheckNodePort(spec)) {
    if (spec.healthCheckNodePort === undefined || spec.healthCheckNodePort === 0) {
      if (oldSpec.healthCheckNodePort !== undefined) spec.healthCheckNodePort = oldSpec.healthCheckNodePort;
    }
  }
}
