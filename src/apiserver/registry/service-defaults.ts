import { defaultStickyMaxAgeSeconds } from "../../model/service-ports-from-service.ts";
import { asArray, asRecord, ensureRecord } from "./json-access.ts";
import type { KubeObject } from "./resource-strategy.ts";
import { clusterIPsOf, externallyAccessible, needsClusterIP, serviceType } from "./service-spec.ts";

/**
 * Fills a Service's defaults as kube-apiserver's v1 defaulting does: `type: ClusterIP`,
 * `sessionAffinity: None` (its config dropped) or ClientIP's 10800 s timeout, each port's
 * `protocol: TCP` and `targetPort = port`, `externalTrafficPolicy: Cluster` when externally
 * accessible, `internalTrafficPolicy: Cluster`, `allocateLoadBalancerNodePorts: true` and
 * ingress `ipMode: VIP` for LoadBalancers. `ipFamilyPolicy` is separate
 * (`defaultServiceIPFamilyPolicy`): on update it must first be carried over from the stored object.
 */
export function applyServiceDefaults(obj: KubeObject): void {
  const spec = ensureRecord(obj, "spec");
  if (spec.sessionAffinity === undefined || spec.sessionAffinity === "") spec.sessionAffinity = "None";
  if (spec.sessionAffinity === "None") delete spec.sessionAffinityConfig;
  if (spec.sessionAffinity === "ClientIP") {
    const clientIP = asRecord(asRecord(spec.sessionAffinityConfig)?.clientIP);
    if (clientIP?.timeoutSeconds === undefined || clientIP.timeoutSeconds === null) {
      spec.sessionAffinityConfig = { clientIP: { timeoutSeconds: defaultStickyMaxAgeSeconds } };
    }
  }
  if (spec.type === undefined || spec.type === "") spec.type = "ClusterIP";
  for (const item of asArray(spec.ports)) {
    const port = asRecord(item);
    if (port === undefined) continue;
    if (port.protocol === undefined || port.protocol === "") port.protocol = "TCP";
    if (port.targetPort === undefined || port.targetPort === 0 || port.targetPort === "") {
      if (port.port !== undefined) port.targetPort = port.port;
    }
  }
  if (
    externallyAccessible(obj) &&
    (spec.externalTrafficPolicy === undefined || spec.externalTrafficPolicy === "")
  ) {
    spec.externalTrafficPolicy = "Cluster";
  }
  const type = serviceType(obj);
  if (spec.internalTrafficPolicy === undefined && ["ClusterIP", "NodePort", "LoadBalancer"].includes(type)) {
    spec.internalTrafficPolicy = "Cluster";
  }
  if (type === "LoadBalancer") {
    if (spec.allocateLoadBalancerNodePorts === undefined) spec.allocateLoadBalancerNodePorts = true;
    for (const item of asArray(asRecord(asRecord(obj.status)?.loadBalancer)?.ingress)) {
      const ingress = asRecord(item);
      if (
        ingress !== undefined &&
        typeof ingress.ip === "string" &&
        ingress.ip !== "" &&
        ingress.ipMode === undefined
      ) {
        ingress.ipMode = "VIP";
      }
    }
  }
}

/**
 * `ipFamilyPolicy` when none is given, for every Service that has cluster IPs: SingleStack, or
 * RequireDualStack when two cluster IPs were requested. Families and IPs are the allocator's.
 */
export function defaultServiceIPFamilyPolicy(obj: KubeObject): void {
  const spec = ensureRecord(obj, "spec");
  if (needsClusterIP(obj) && (spec.ipFamilyPolicy === undefined || spec.ipFamilyPolicy === null)) {
    // Two given cluster IPs can only mean dual-stack; otherwise one family, as upstream defaults it.
    spec.ipFamilyPolicy = clusterIPsOf(obj).length === 2 ? "RequireDualStack" : "SingleStack";
  }
}
