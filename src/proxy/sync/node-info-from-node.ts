import { networkInterfaces } from "node:os";
import type { V1Node } from "@kubernetes/client-node";
import { canonicalIP, ipFamilyOf } from "../../model/ip.ts";
import type { NodeInfo } from "../../model/node-info.ts";

/**
 * Builds what the proxy knows about its node: the Node object (labels, pod CIDRs, addresses,
 * deletion), the configured node IPs (which win over the Node's), and the interfaces' addresses.
 * The node IPs are at most one per family: the configured ones, else the Node's InternalIPs, else its
 * ExternalIPs (as kube-proxy picks them).
 */
export function nodeInfoFromNode(
  node: V1Node | undefined,
  options: {
    readonly name: string;
    readonly nodeIPs: readonly string[];
    readonly localAddresses: readonly string[];
  },
): NodeInfo {
  const addresses = node?.status?.addresses ?? [];
  const candidates = [
    ...options.nodeIPs,
    ...addresses.filter((a) => a.type === "InternalIP").map((a) => a.address),
    ...addresses.filter((a) => a.type === "ExternalIP").map((a) => a.address),
  ];
  const nodeIPs: string[] = [];
  const seen = new Set<string>();
  for (const ip of candidates) {
    const family = ipFamilyOf(ip);
    if (family === undefined || seen.has(family)) continue;
    seen.add(family);
    nodeIPs.push(canonicalIP(ip) ?? ip);
  }
  const deletion = node?.metadata?.deletionTimestamp;
  return {
    name: options.name,
    labels: { ...(node?.metadata?.labels ?? {}) },
    nodeIPs,
    podCIDRs: node?.spec?.podCIDRs ?? (node?.spec?.podCIDR ? [node.spec.podCIDR] : []),
    localAddresses: options.localAddresses,
    deleting: deletion !== undefined && deletion !== null,
  };
}

/** Every address on this machine's interfaces, as CIDRs (e.g. `127.0.0.1/8`), sorted. */
export function localInterfaceAddresses(): string[] {
  const out = new Set<string>();
  for (const infos of Object.values(networkInterfaces())) {
    for (const info of infos ?? []) if (info.cidr) out.add(info.cidr);
  }
  return [...out].sort();
}
