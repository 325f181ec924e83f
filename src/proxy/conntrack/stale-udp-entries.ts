import type { Endpoint } from "../../model/endpoint.ts";
import { nodeZone } from "../../model/node-info.ts";
import type { ProxyState } from "../../model/proxy-state.ts";
import type { ServicePort } from "../../model/service-port.ts";
import { categorizeEndpoints } from "../../topology/categorize-endpoints.ts";

/**
 * Stale UDP conntrack entries after a sync, as filters for `conntrack -D`. UDP has no connection
 * end, so an entry created before a change keeps steering a flow (every packet refreshes its
 * timeout) until it is deleted:
 * - `services`: a UDP service port that had no endpoints and now has some. Its packets were
 *   rejected or dropped, and the entries remember that (no DNAT): delete every entry to its
 *   addresses (ClusterIP, external and LoadBalancer IPs on the port; the NodePort).
 * - `endpoints`: an endpoint a UDP service port no longer uses (scaled down, to zero too, not
 *   ready, or the Service deleted — kubernetes#139628 and its deleted-service follow-up): delete
 *   the entries from the service's addresses whose reply comes from that endpoint.
 */
export interface StaleUdpEntries {
  readonly services: readonly StaleUdpService[];
  readonly endpoints: readonly StaleUdpEndpoint[];
}

/** Addresses of a UDP service port whose every entry is stale. */
export interface StaleUdpService {
  readonly family: ProxyState["family"];
  /** ClusterIP, externalIPs and LoadBalancer IPs. */
  readonly ips: readonly string[];
  readonly port: number;
  /** 0 when the port has none. */
  readonly nodePort: number;
}

/** An endpoint no longer used by a UDP service port. */
export interface StaleUdpEndpoint {
  readonly family: ProxyState["family"];
  readonly endpointIP: string;
  readonly endpointPort: number;
  /** The service port's ClusterIP, externalIPs and LoadBalancer IPs (at the time it used the endpoint). */
  readonly serviceIPs: readonly string[];
  readonly port: number;
  readonly nodePort: number;
}

/** The endpoints some traffic of the port is DNATed to, as every kernel mode programs them. */
function programmedEndpoints(state: ProxyState, svc: ServicePort): readonly Endpoint[] {
  const endpoints = state.endpoints.get(svc.key) ?? [];
  if (endpoints.length === 0) return [];
  return categorizeEndpoints(endpoints, svc, { name: state.node.name, zone: nodeZone(state.node) })
    .allReachableEndpoints;
}

function addresses(svc: ServicePort): string[] {
  return [svc.clusterIP, ...svc.externalIPs, ...svc.loadBalancerVIPs];
}

/**
 * Compares the UDP service ports of two states of one family (what was programmed, what is now)
 * and lists the stale entries. `previous` undefined (first sync): every UDP service with endpoints
 * counts as newly served, because entries may predate kproxy. Pure.
 */
export function staleUdpEntries(previous: ProxyState | undefined, next: ProxyState): StaleUdpEntries {
  const services: StaleUdpService[] = [];
  const endpoints: StaleUdpEndpoint[] = [];
  for (const svc of next.services.values()) {
    if (svc.protocol !== "UDP") continue;
    if (programmedEndpoints(next, svc).length === 0) continue;
    const old = previous?.services.get(svc.key);
    const hadEndpoints =
      old !== undefined && previous !== undefined && programmedEndpoints(previous, old).length > 0;
    if (!hadEndpoints) {
      services.push({ family: next.family, ips: addresses(svc), port: svc.port, nodePort: svc.nodePort });
    }
  }
  if (previous !== undefined) {
    for (const old of previous.services.values()) {
      if (old.protocol !== "UDP") continue;
      const before = programmedEndpoints(previous, old);
      if (before.length === 0) continue;
      const cur = next.services.get(old.key);
      const now = new Set(
        cur === undefined || cur.protocol !== "UDP" ? [] : programmedEndpoints(next, cur).map((e) => e.key),
      );
      for (const ep of before) {
        if (now.has(ep.key)) continue;
        endpoints.push({
          family: previous.family,
          endpointIP: ep.ip,
          endpointPort: ep.port,
          serviceIPs: addresses(old),
          port: old.port,
          nodePort: old.nodePort,
        });
      }
    }
  }
  return { services, endpoints };
}
