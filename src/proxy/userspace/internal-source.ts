import type { ProxyConfig } from "../../config/proxy-config.ts";
import { cidrContains, parseCIDR, type ParsedCIDR } from "../../model/ip.ts";
import type { NodeInfo } from "../../model/node-info.ts";

/**
 * Which clients count as cluster-internal even when they use an external address (NodePort,
 * external IP, load-balancer IP): the node itself (loopback and its own addresses) and pods (the
 * cluster CIDRs). Upstream short-circuits such traffic to the cluster-wide endpoints under
 * `externalTrafficPolicy: Local`, so that it is never dropped for lack of a local endpoint.
 */
export function internalSourceFilter(
  config: Pick<ProxyConfig, "detectLocalMode" | "clusterCIDRs">,
  nodes: readonly NodeInfo[],
): (ip: string) => boolean {
  const own = new Set<string>();
  for (const node of nodes) for (const cidr of node.localAddresses) own.add(cidr.split("/")[0] ?? "");
  const pods: ParsedCIDR[] =
    config.detectLocalMode === "ClusterCIDR"
      ? config.clusterCIDRs.map((c) => parseCIDR(c)).filter((p): p is ParsedCIDR => p !== undefined)
      : [];
  return (raw) => {
    const ip = raw.startsWith("::ffff:") && raw.includes(".") ? raw.slice(7) : raw;
    if (ip.startsWith("127.") || ip === "::1" || own.has(ip)) return true;
    for (const p of pods) if (cidrContains(p, ip)) return true;
    return false;
  };
}
