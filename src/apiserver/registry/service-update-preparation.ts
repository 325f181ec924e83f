import { isDeepStrictEqual } from "node:util";
import { asRecord, ensureRecord } from "./json-access.ts";
import type { KubeObject } from "./resource-strategy.ts";
import {
  clusterIPsOf,
  externallyAccessible,
  needsClusterIP,
  needsHealthCheckNodePort,
  needsNodePort,
  nodePortOf,
  serviceSpec,
  servicePorts,
  serviceType,
} from "./service-spec.ts";

/**
 * On create, a client that sent only `clusterIP` (an older client) gets `clusterIPs` to match,
 * so that validation and allocation see both fields in sync.
 */
export function normalizeClusterIPsOnCreate(obj: KubeObject): void {
  const spec = ensureRecord(obj, "spec");
  if (typeof spec.clusterIP === "string" && spec.clusterIP !== "" && clusterIPsOf(obj).length === 0) {
    spec.clusterIPs = [spec.clusterIP];
  }
}

/**
 * Reconciles a Service update with the stored Service the way kube-apiserver does, so that
 * re-applying the YAML a user first created (with no cluster IP or node ports in it) is
 * accepted and keeps what was allocated, and so that changing `type` releases what the new type
 * does not use:
 * 1. allocated values the client left out (cluster IPs, IP families and policy, node ports
 *    matched by port name, the health-check node port) are carried over from `old`;
 * 2. `clusterIP` and `clusterIPs` are brought back in sync when the client changed only one;
 * 3. fields the new type does not use (cluster IPs for ExternalName, node ports for ClusterIP,
 *    the health-check node port, LoadBalancer-only fields, `externalTrafficPolicy`, and the
 *    load-balancer status) are cleared, but only when the client left them unchanged — a
 *    deliberate change is left for validation to judge.
 */
export function prepareServiceUpdate(obj: KubeObject, old: KubeObject): void {
  patchAllocatedValues(obj, old);
  normalizeClusterIPsOnUpdate(obj, old);
  dropTypeDependentFields(obj, old);
}

function patchAllocatedValues(obj: KubeObject, old: KubeObject): void {
  const spec = ensureRecord(obj, "spec");
  const oldSpec = serviceSpec(old);
  if (needsClusterIP(old) && needsClusterIP(obj)) {
    if (isUnset(spec.clusterIP) && !isUnset(oldSpec.clusterIP)) spec.clusterIP = oldSpec.clusterIP;
    if (clusterIPsOf(obj).length === 0 && clusterIPsOf(old).length > 0)
      spec.clusterIPs = [...clusterIPsOf(old)];
    // The allocator derives these from the cluster IPs; a client that omits them keeps them.
    if (isUnset(spec.ipFamilies) && !isUnset(oldSpec.ipFamilies))
      spec.ipFamilies = structuredClone(oldSpec.ipFamilies);
    if (isUnset(spec.ipFamilyPolicy) && !isUnset(oldSpec.ipFamilyPolicy))
      spec.ipFamilyPolicy = oldSpec.ipFamilyPolicy;
  }
  if (needsNodePort(old) && needsNodePort(obj)) {
    const oldUsed = new Set(
      servicePorts(old)
        .map(nodePortOf)
        .filter((p) => p !== 0),
    );
    const newUsed = new Set(
      servicePorts(obj)
        .map(nodePortOf)
        .filter((p) => p !== 0),
    );
    const taken = new Set([...oldUsed].filter((p) => newUsed.has(p)));
    const byName = new Map<string, number>();
    for (const port of servicePorts(old)) byName.set(portName(port), nodePortOf(port));
    for (const port of servicePorts(obj)) {
      if (nodePortOf(port) !== 0) continue;
      const previous = byName.get(portName(port)) ?? 0;
      if (previous !== 0 && !taken.has(previous)) port.nodePort = previous;
    }
  }
  if (needsHealthCheckNodePort(old) && needsHealthCheckNodePort(obj)) {
    if (isUnset(spec.healthCheckNodePort) && !isUnset(oldSpec.healthCheckNodePort)) {
      spec.healthCheckNodePort = oldSpec.healthCheckNodePort;
    }
  }
}

function normalizeClusterIPsOnUpdate(obj: KubeObject, old: KubeObject): void {
  const spec = ensureRecord(obj, "spec");
  const oldSpec = serviceSpec(old);
  const oldClusterIP = stringOrEmpty(oldSpec.clusterIP);
  if (
    clusterIPsOf(old).length > 0 &&
    clusterIPsOf(obj).length === 0 &&
    oldClusterIP === stringOrEmpty(spec.clusterIP)
  ) {
    spec.clusterIPs = [...clusterIPsOf(old)];
  }
  const clusterIP = stringOrEmpty(spec.clusterIP);
  if (oldClusterIP === clusterIP) return;
  const samePlural = isDeepStrictEqual(clusterIPsOf(old), clusterIPsOf(obj));
  if (oldClusterIP !== "" && clusterIP === "") {
    if (samePlural) delete spec.clusterIPs;
  } else if (samePlural) {
    spec.clusterIPs = [clusterIP];
  }
}

function dropTypeDependentFields(obj: KubeObject, old: KubeObject): void {
  const spec = ensureRecord(obj, "spec");
  const oldSpec = serviceSpec(old);
  const same = (key: string): boolean =>
    isDeepStrictEqual(emptyToUndefined(spec[key]), emptyToUndefined(oldSpec[key]));
  if (needsClusterIP(old) && !needsClusterIP(obj)) {
    if (same("clusterIP") && same("clusterIPs")) {
      delete spec.clusterIP;
      delete spec.clusterIPs;
    }
    if (same("ipFamilies")) delete spec.ipFamilies;
    if (same("ipFamilyPolicy")) delete spec.ipFamilyPolicy;
  }
  if (needsNodePort(old) && !needsNodePort(obj)) {
    const oldPorts = new Set(servicePorts(old).map(nodePortOf));
    // The client may add, remove or edit ports, as long as it names no node port of its own.
    if (servicePorts(obj).every((p) => nodePortOf(p) === 0 || oldPorts.has(nodePortOf(p)))) {
      for (const port of servicePorts(obj)) delete port.nodePort;
    }
  }
  if (needsHealthCheckNodePort(old) && !needsHealthCheckNodePort(obj) && same("healthCheckNodePort")) {
    delete spec.healthCheckNodePort;
  }
  if (serviceType(old) === "LoadBalancer" && serviceType(obj) !== "LoadBalancer") {
    if (typeof spec.allocateLoadBalancerNodePorts === "boolean" && same("allocateLoadBalancerNodePorts")) {
      delete spec.allocateLoadBalancerNodePorts;
    }
    if (same("loadBalancerClass")) delete spec.loadBalancerClass;
  }
  if (externallyAccessible(old) && !externallyAccessible(obj) && same("externalTrafficPolicy")) {
    delete spec.externalTrafficPolicy;
  }
  // Load-balancer de-provisioning is asynchronous in a real cluster; clients need not see that.
  if (serviceType(obj) !== "LoadBalancer") {
    const status = asRecord(obj.status);
    if (status !== undefined) status.loadBalancer = {};
  }
}

function portName(port: Record<string, unknown>): string {
  return typeof port.name === "string" ? port.name : "";
}

function isUnset(value: unknown): boolean {
  return (
    value === undefined ||
    value === null ||
    value === "" ||
    value === 0 ||
    (Array.isArray(value) && value.length === 0)
  );
}

function stringOrEmpty(value: unknown): string {
  return typeof value === "string" ? value : "";
}

function emptyToUndefined(value: unknown): unknown {
  return isUnset(value) ? undefined : value;
}
