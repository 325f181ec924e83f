import type { Endpoint } from "../../../model/endpoint.ts";
import type { ServicePort } from "../../../model/service-port.ts";
import { endpointChainName, kubeMarkMasqChain } from "./chain-names.ts";

/**
 * Chain names of endpoints are SHA-256 hashes; a full sync of 20,000 services × 10 endpoints
 * would compute 200,000 of them. They never change for a given input, so they are memoised, per
 * service port then per endpoint (keys that already exist as strings: building one key string per
 * endpoint costs more than the lookup).
 */
const endpointChainCache = new Map<string, Map<string, string>>();
let endpointChainCacheSize = 0;
const endpointChainCacheLimit = 1_000_000;

/** `KUBE-SEP-…` of an endpoint of a service port (memoised). */
export function cachedEndpointChainName(svc: ServicePort, ep: Endpoint): string {
  let perService = endpointChainCache.get(svc.key);
  if (perService === undefined) {
    if (endpointChainCacheSize >= endpointChainCacheLimit) {
      endpointChainCache.clear();
      endpointChainCacheSize = 0;
    }
    endpointChainCache.set(svc.key, (perService = new Map()));
  }
  // The protocol is part of the name; a port that changed protocol must not reuse the old names.
  const key = svc.protocol === "TCP" ? ep.key : `${svc.protocol} ${ep.key}`;
  let name = perService.get(key);
  if (name === undefined) {
    name = endpointChainName(svc.key, svc.protocol, ep.key);
    perService.set(key, name);
    endpointChainCacheSize++;
  }
  return name;
}

// Probabilities 1/n are printed with ten decimals, as upstream's "%0.10f".
const probabilities: string[] = [];
function probability(n: number): string {
  let p = probabilities[n];
  if (p === undefined) {
    p = (1 / n).toFixed(10);
    probabilities[n] = p;
  }
  return p;
}

/** `-m comment --comment X ` unless comments are dropped in large-cluster mode. */
function endpointComment(text: string, largeClusterMode: boolean): string {
  if (largeClusterMode) return "";
  return text.includes(" ") ? `-m comment --comment "${text}" ` : `-m comment --comment ${text} `;
}

/**
 * The rules of a service's policy chain (KUBE-SVC or KUBE-SVL) that pick an endpoint: ClientIP
 * affinity through the `recent` module first, then a random choice where rule i of n matches
 * with probability 1/(n−i), so that every endpoint is equally likely. Returns `-A` lines.
 */
export function serviceToEndpointRules(
  svc: ServicePort,
  where: {
    readonly chain: string;
    readonly endpoints: readonly Endpoint[];
    readonly largeClusterMode: boolean;
  },
): string {
  const { chain, endpoints, largeClusterMode } = where;
  let out = "";
  if (svc.stickyMaxAgeSeconds > 0) {
    for (const ep of endpoints) {
      const sep = cachedEndpointChainName(svc, ep);
      const comment = endpointComment(`${svc.key} -> ${ep.key}`, largeClusterMode);
      out += `-A ${chain} ${comment}-m recent --name ${sep} --rcheck --seconds ${svc.stickyMaxAgeSeconds} --reap -j ${sep}\n`;
    }
  }
  const n = endpoints.length;
  endpoints.forEach((ep, i) => {
    const sep = cachedEndpointChainName(svc, ep);
    const comment = endpointComment(`${svc.key} -> ${ep.key}`, largeClusterMode);
    const statistic = i < n - 1 ? `-m statistic --mode random --probability ${probability(n - i)} ` : "";
    out += `-A ${chain} ${comment}${statistic}-j ${sep}\n`;
  });
  return out;
}

/**
 * The rules of one endpoint chain: masquerade hairpin traffic (a pod reaching itself through the
 * Service must not see its own address as source, or its reply would bypass the DNAT), record
 * ClientIP affinity, then DNAT to the endpoint.
 */
export function endpointChainRules(
  svc: ServicePort,
  where: { readonly chain: string; readonly endpoint: Endpoint; readonly largeClusterMode: boolean },
): string {
  const { chain, endpoint: ep, largeClusterMode } = where;
  const comment = endpointComment(svc.key, largeClusterMode);
  const proto = svc.protocol.toLowerCase();
  const affinity = svc.stickyMaxAgeSeconds > 0 ? `-m recent --name ${chain} --set ` : "";
  return (
    `-A ${chain} ${comment}-s ${ep.ip} -j ${kubeMarkMasqChain}\n` +
    `-A ${chain} ${comment}${affinity}-m ${proto} -p ${proto} -j DNAT --to-destination ${ep.key}\n`
  );
}
