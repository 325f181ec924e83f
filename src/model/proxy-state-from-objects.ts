import type { KubernetesObject, V1EndpointSlice, V1Service } from "@kubernetes/client-node";
import type { Endpoint } from "./endpoint.ts";
import { endpointsFromSlices, serviceKeyOfSlice } from "./endpoints-from-slices.ts";
import { cidrFamilyOf } from "./ip.ts";
import type { NodeInfo } from "./node-info.ts";
import type { IPFamily } from "./protocol.ts";
import type { ProxyState } from "./proxy-state.ts";
import { servicePortsFromService } from "./service-ports-from-service.ts";
import type { ServicePort } from "./service-port.ts";

/** A Service or EndpointSlice that could not be used, and why. */
export interface SkippedObject {
  readonly kind: string;
  readonly key: string;
  readonly reason: string;
}

/**
 * Builds the ProxyState of one family from whole API objects in one go (for `kproxy render`,
 * goldens and tests; the running proxy builds the same maps incrementally through the change
 * trackers). Objects other than Services and EndpointSlices are ignored.
 */
export function proxyStateFromObjects(
  objects: readonly KubernetesObject[],
  options: { readonly family: IPFamily; readonly node: NodeInfo; readonly serviceCIDRs?: readonly string[] },
): { state: ProxyState; skipped: SkippedObject[] } {
  const services = new Map<string, ServicePort>();
  const slicesByService = new Map<string, V1EndpointSlice[]>();
  const skipped: SkippedObject[] = [];
  for (const obj of objects) {
    const key = `${obj.metadata?.namespace ?? ""}/${obj.metadata?.name ?? ""}`;
    if (obj.kind === "Service") {
      const result = servicePortsFromService(obj as V1Service, options.family);
      if (result.kind === "invalid") skipped.push({ kind: "Service", key, reason: result.reason });
      if (result.kind !== "ports") continue;
      for (const port of result.ports) services.set(port.key, port);
    } else if (obj.kind === "EndpointSlice") {
      const svcKey = serviceKeyOfSlice(obj as V1EndpointSlice);
      if (svcKey === undefined) {
        skipped.push({ kind: "EndpointSlice", key, reason: "no kubernetes.io/service-name label" });
        continue;
      }
      const list = slicesByService.get(svcKey) ?? [];
      list.push(obj as V1EndpointSlice);
      slicesByService.set(svcKey, list);
    }
  }
  const endpoints = new Map<string, Endpoint[]>();
  for (const slices of slicesByService.values()) {
    for (const [portKey, eps] of endpointsFromSlices(slices, options.family, options.node.name)) {
      endpoints.set(portKey, eps);
    }
  }
  const serviceCIDRs = (options.serviceCIDRs ?? []).filter((c) => cidrFamilyOf(c) === options.family);
  return {
    state: { family: options.family, services, endpoints, node: options.node, serviceCIDRs },
    skipped,
  };
}
