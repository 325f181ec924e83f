import { asArray, asRecord, ensureRecord } from "./json-access.ts";
import type { KubeObject } from "./resource-strategy.ts";

/**
 * Fills a Pod's v1 defaults that clients see in `kubectl get pod -o yaml`: restart and DNS
 * policies, grace period, scheduler, service links, each container's pull policy and
 * termination-message settings, and each container port's `protocol: TCP` (which the
 * EndpointSlice controller matches named target ports by).
 */
export function applyPodDefaults(obj: KubeObject): void {
  const spec = ensureRecord(obj, "spec");
  setIfMissing(spec, "dnsPolicy", "ClusterFirst");
  setIfMissing(spec, "restartPolicy", "Always");
  setIfMissing(spec, "terminationGracePeriodSeconds", 30);
  setIfMissing(spec, "schedulerName", "default-scheduler");
  setIfMissing(spec, "enableServiceLinks", true);
  if (asRecord(spec.securityContext) === undefined) spec.securityContext = {};
  for (const list of [spec.containers, spec.initContainers]) {
    for (const item of asArray(list)) {
      const container = asRecord(item);
      if (container === undefined) continue;
      setIfMissing(container, "imagePullPolicy", defaultPullPolicy(container.image));
      setIfMissing(container, "terminationMessagePath", "/dev/termination-log");
      setIfMissing(container, "terminationMessagePolicy", "File");
      for (const p of asArray(container.ports)) {
        const port = asRecord(p);
        if (port !== undefined) setIfMissing(port, "protocol", "TCP");
      }
    }
  }
}

/** `Always` for `:latest` or untagged images (they may move), `IfNotPresent` otherwise. */
function defaultPullPolicy(image: unknown): string {
  if (typeof image !== "string") return "IfNotPresent";
  if (image.includes("@")) return "IfNotPresent";
  const lastSegment = image.slice(image.lastIndexOf("/") + 1);
  const colon = lastSegment.lastIndexOf(":");
  const tag = colon < 0 ? "" : lastSegment.slice(colon + 1);
  return tag === "" || tag === "latest" ? "Always" : "IfNotPresent";
}

/**
 * The status a new Pod starts with: Pending, with its QoS class. Clients cannot create a Pod
 * with a status; the kubelet (here: whoever updates `/status`) reports it.
 */
export function initialPodStatus(obj: KubeObject): Record<string, unknown> {
  return { phase: "Pending", qosClass: podQOSClass(obj) };
}

/** Guaranteed when every container limits CPU and memory with equal requests; BestEffort without any; else Burstable. */
export function podQOSClass(obj: KubeObject): string {
  const containers = [
    ...asArray(asRecord(obj.spec)?.containers),
    ...asArray(asRecord(obj.spec)?.initContainers),
  ].map((c) => asRecord(c) ?? {});
  let any = false;
  let guaranteed = containers.length > 0;
  for (const container of containers) {
    const resources = asRecord(container.resources) ?? {};
    const limits = asRecord(resources.limits) ?? {};
    const requests = { ...limits, ...(asRecord(resources.requests) ?? {}) };
    for (const name of ["cpu", "memory"]) {
      if (limits[name] !== undefined || requests[name] !== undefined) any = true;
      if (limits[name] === undefined || String(requests[name]) !== String(limits[name])) guaranteed = false;
    }
  }
  if (!any) return "BestEffort";
  return guaranteed ? "Guaranteed" : "Burstable";
}

/** Keeps `status.podIP` and `status.podIPs[0].ip` in step, as the v1 conversion does. */
export function syncPodIPs(obj: KubeObject): void {
  const status = asRecord(obj.status);
  if (status === undefined) return;
  const podIPs = asArray(status.podIPs);
  const first = asRecord(podIPs[0])?.ip;
  if (typeof status.podIP === "string" && status.podIP !== "" && podIPs.length === 0) {
    status.podIPs = [{ ip: status.podIP }];
  } else if ((status.podIP === undefined || status.podIP === "") && typeof first === "string") {
    status.podIP = first;
  }
}

function setIfMissing(record: Record<string, unknown>, key: string, value: unknown): void {
  if (record[key] === undefined || record[key] === null || record[key] === "") record[key] = value;
}
