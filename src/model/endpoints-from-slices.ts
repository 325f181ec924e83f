import type { V1EndpointSlice } from "@kubernetes/client-node";
import { endpointKey, type Endpoint } from "./endpoint.ts";
import { ipFamilyOf } from "./ip.ts";
import { isProtocol, type IPFamily } from "./protocol.ts";
import { namespacedName, servicePortNameString } from "./service-port-name.ts";

/** Label linking an EndpointSlice to its Service. */
export const labelServiceName = "kubernetes.io/service-name";

/** The `namespace/name` of the Service an EndpointSlice belongs to, or undefined when unlabelled. */
export function serviceKeyOfSlice(slice: V1EndpointSlice): string | undefined {
  const svc = slice.metadata?.labels?.[labelServiceName];
  const ns = slice.metadata?.namespace;
  return svc && ns ? namespacedName(ns, svc) : undefined;
}

/**
 * Merges the EndpointSlices of one Service into endpoints per service port key
 * (`namespace/name:port`), for one IP family and as seen from node `nodeName`.
 * Upstream: `EndpointSliceCache`. Slices of another family, FQDN slices, ports without a number
 * and endpoints without an address are skipped. An endpoint listed twice (slices overlap while the
 * controller moves endpoints) appears once, preferring the ready copy.
 */
export function endpointsFromSlices(
  slices: readonly V1EndpointSlice[],
  family: IPFamily,
  nodeName: string,
): Map<string, Endpoint[]> {
  const byPort = new Map<string, Map<string, Endpoint>>();
  // Sort by name so that the result does not depend on informer order.
  const sorted = [...slices].sort((a, b) => (a.metadata?.name ?? "").localeCompare(b.metadata?.name ?? ""));
  for (const slice of sorted) {
    if (slice.addressType !== family) continue;
    const namespace = slice.metadata?.namespace;
    const svcName = slice.metadata?.labels?.[labelServiceName];
    if (!namespace || !svcName) continue;
    for (const port of slice.ports ?? []) {
      const protocol = port.protocol ?? "TCP";
      if (port.port === undefined || port.port === null || !isProtocol(protocol)) continue;
      const key = servicePortNameString({ namespace, name: svcName, port: port.name ?? "", protocol });
      let eps = byPort.get(key);
      if (eps === undefined) byPort.set(key, (eps = new Map()));
      for (const ep of slice.endpoints ?? []) {
        const ip = ep.addresses?.[0];
        if (ip === undefined || ipFamilyOf(ip) !== family) continue;
        const ready = ep.conditions?.ready ?? true;
        const endpoint: Endpoint = {
          ip,
          port: port.port,
          key: endpointKey(ip, port.port),
          ready,
          serving: ep.conditions?.serving ?? ready,
          terminating: ep.conditions?.terminating ?? false,
          isLocal: ep.nodeName !== undefined && ep.nodeName === nodeName,
          nodeName: ep.nodeName,
          zone: ep.zone,
          zoneHints: new Set((ep.hints?.forZones ?? []).map((z) => z.name)),
          nodeHints: new Set((ep.hints?.forNodes ?? []).map((n) => n.name)),
          hostname: ep.hostname,
          targetRef: ep.targetRef?.name
            ? `${ep.targetRef.namespace ?? namespace}/${ep.targetRef.name}`
            : undefined,
        };
        const existing = eps.get(endpoint.key);
        if (existing === undefined || (!existing.ready && endpoint.ready)) eps.set(endpoint.key, endpoint);
      }
    }
  }
  const out = new Map<string, Endpoint[]>();
  for (const [key, eps] of byPort) {
    // Upstream sorts endpoints by their string form so that rule output is stable.
    out.set(
      key,
      [...eps.values()].sort((a, b) => compareEndpointKeys(a.key, b.key)),
    );
  }
  return out;
}

/** Orders `ip:port` strings as upstream does (plain string order). */
function compareEndpointKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
