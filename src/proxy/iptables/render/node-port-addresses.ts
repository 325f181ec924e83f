import { cidrContains, cidrFamilyOf, ipFamilyOf, parseCIDR } from "../../../model/ip.ts";
import type { NodeInfo } from "../../../model/node-info.ts";
import type { IPFamily } from "../../../model/protocol.ts";

/** Where NodePorts are accepted, for one family (upstream `NodePortAddresses`). */
export interface NodePortAddresses {
  /** No CIDR of this family configured (or a zero CIDR): every local address. */
  readonly matchAll: boolean;
  /** With `matchAll` false: the node's addresses inside the configured CIDRs, in interface order. */
  readonly nodeIPs: readonly string[];
  /** True when the configured CIDRs include an IPv4 loopback address (localhost NodePorts possible). */
  readonly containsIPv4Loopback: boolean;
}

/**
 * Resolves `nodePortAddresses` (CIDRs, or `primary` for the node's primary IP) against the node's
 * interface addresses, as upstream does: CIDRs of the other family are ignored, and none left
 * means "all local addresses".
 */
export function nodePortAddresses(
  configured: readonly string[],
  where: { readonly node: NodeInfo; readonly family: IPFamily },
): NodePortAddresses {
  const { node, family } = where;
  const cidrs: string[] = [];
  for (const raw of configured) {
    const entry = raw.trim();
    if (entry === "primary") {
      const primary = node.nodeIPs.find((ip) => ipFamilyOf(ip) === family);
      if (primary !== undefined) cidrs.push(family === "IPv4" ? `${primary}/32` : `${primary}/128`);
    } else if (cidrFamilyOf(entry) === family) {
      cidrs.push(entry);
    }
  }
  if (cidrs.length === 0) cidrs.push(family === "IPv4" ? "0.0.0.0/0" : "::/0");
  let containsIPv4Loopback = false;
  const parsed = [];
  for (const cidr of cidrs) {
    const p = parseCIDR(cidr);
    if (p === undefined) continue;
    if (p.family === "IPv4" && cidrContains(p, "127.0.0.1")) containsIPv4Loopback = true;
    if (p.prefix === 0) return { matchAll: true, nodeIPs: [], containsIPv4Loopback };
    parsed.push(p);
  }
  const nodeIPs: string[] = [];
  for (const local of node.localAddresses) {
    const ip = local.split("/")[0] ?? "";
    if (ipFamilyOf(ip) !== family || nodeIPs.includes(ip)) continue;
    if (parsed.some((p) => cidrContains(p, ip))) nodeIPs.push(ip);
  }
  return { matchAll: false, nodeIPs, containsIPv4Loopback };
}
