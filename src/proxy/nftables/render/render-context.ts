import type { NftablesLayout, ProxyConfig } from "../../../config/proxy-config.ts";
import { masqueradeMark } from "../../../config/defaults.ts";
import { cidrContains, cidrFamilyOf, ipFamilyOf } from "../../../model/ip.ts";
import { nodeZone } from "../../../model/node-info.ts";
import type { ProxyState } from "../../../model/proxy-state.ts";
import { EndpointBlocks } from "./endpoint-blocks.ts";
import type { NftFamily } from "./nft-ruleset.ts";

/** Table names: upstream's for its layout, kproxy's own for the default (see README.md). */
export const upstreamTableName = "kube-proxy";
export const kproxyTableName = "kproxy";

/** How rules tell pod traffic from the rest (upstream `LocalTrafficDetector`), as nft matches. */
export interface LocalTrafficMatch {
  /** Matches traffic from pods, e.g. `ip saddr 10.0.0.0/8`. */
  readonly ifLocal: string;
  /** Matches traffic not from pods, e.g. `ip saddr != 10.0.0.0/8`. */
  readonly ifNotLocal: string;
}

/** Everything the renderers derive once from the state and configuration. */
export interface RenderContext {
  readonly layout: NftablesLayout;
  readonly family: NftFamily;
  readonly table: string;
  /** `ip` or `ip6`, for payload matches. */
  readonly ipX: "ip" | "ip6";
  /** `ipv4_addr` or `ipv6_addr`, for set types. */
  readonly addrType: "ipv4_addr" | "ipv6_addr";
  /** `ip daddr != 127.0.0.0/8` or `ip6 daddr != ::1`. */
  readonly noLocalhost: string;
  readonly masqueradeMark: string;
  readonly masqueradeAll: boolean;
  /** Undefined when local traffic cannot be detected (mode `None`, or no CIDR of this family). */
  readonly localTraffic: LocalTrafficMatch | undefined;
  /** The addresses that accept NodePorts, or `all` (every local address but loopback). */
  readonly nodePortIPs: readonly string[] | "all";
  readonly serviceCIDRs: readonly string[];
  /** The node's primary IP of this family, if known (for loadBalancerSourceRanges that contain it). */
  readonly nodeIP: string | undefined;
  readonly node: { readonly name: string; readonly zone: string };
  /** The numgen blocks of the default layout's service chains (kept between syncs by the proxier). */
  readonly blocks: EndpointBlocks;
}

/**
 * Builds the render context of one IP family. `blocks`: the allocation of numgen blocks to
 * chains so far (a fresh one when rendering a whole table once, as `kproxy render` does).
 */
export function renderContext(
  state: ProxyState,
  config: ProxyConfig,
  blocks: EndpointBlocks = new EndpointBlocks(),
): RenderContext {
  const v4 = state.family === "IPv4";
  const layout = config.nftables.layout;
  return {
    layout,
    family: v4 ? "ip" : "ip6",
    table: layout === "upstream" ? upstreamTableName : kproxyTableName,
    ipX: v4 ? "ip" : "ip6",
    addrType: v4 ? "ipv4_addr" : "ipv6_addr",
    noLocalhost: v4 ? "ip daddr != 127.0.0.0/8" : "ip6 daddr != ::1",
    masqueradeMark: masqueradeMark(config.nftables.masqueradeBit),
    masqueradeAll: config.nftables.masqueradeAll,
    localTraffic: localTrafficMatch(state, config),
    nodePortIPs: nodePortIPs(state, config),
    serviceCIDRs: state.serviceCIDRs.filter((c) => cidrFamilyOf(c) === state.family),
    nodeIP: state.node.nodeIPs.find((ip) => ipFamilyOf(ip) === state.family),
    node: { name: state.node.name, zone: nodeZone(state.node) },
    blocks,
  };
}

function localTrafficMatch(state: ProxyState, config: ProxyConfig): LocalTrafficMatch | undefined {
  const ipX = state.family === "IPv4" ? "ip" : "ip6";
  const byCIDR = (cidrs: readonly string[]): LocalTrafficMatch | undefined => {
    // Like upstream, one CIDR per family: the first one given.
    const cidr = cidrs.find((c) => cidrFamilyOf(c) === state.family);
    return cidr === undefined
      ? undefined
      : { ifLocal: `${ipX} saddr ${cidr}`, ifNotLocal: `${ipX} saddr != ${cidr}` };
  };
  const byInterface = (name: string): LocalTrafficMatch | undefined =>
    name === "" ? undefined : { ifLocal: `iifname "${name}"`, ifNotLocal: `iifname != "${name}"` };
  switch (config.detectLocalMode) {
    case "ClusterCIDR":
      return byCIDR(config.clusterCIDRs);
    case "NodeCIDR":
      return byCIDR(state.node.podCIDRs);
    case "BridgeInterface":
      return byInterface(config.detectLocal.bridgeInterface);
    case "InterfaceNamePrefix":
      return config.detectLocal.interfaceNamePrefix === ""
        ? undefined
        : byInterface(`${config.detectLocal.interfaceNamePrefix}*`);
    case "None":
      return undefined;
  }
}

/**
 * The node's addresses that accept NodePort traffic, as upstream's `NodePortAddresses.GetNodeIPs`:
 * local addresses inside `nodePortAddresses` (`primary` meaning the node IP), loopback excluded;
 * `all` when no CIDR of this family is configured or one is a whole-range CIDR.
 */
function nodePortIPs(state: ProxyState, config: ProxyConfig): readonly string[] | "all" {
  const cidrs: string[] = [];
  for (const entry of config.nodePortAddresses) {
    if (entry === "primary") {
      const ip = state.node.nodeIPs.find((a) => ipFamilyOf(a) === state.family);
      if (ip !== undefined) cidrs.push(state.family === "IPv4" ? `${ip}/32` : `${ip}/128`);
    } else if (cidrFamilyOf(entry) === state.family) {
      cidrs.push(entry);
    }
  }
  if (cidrs.length === 0 || cidrs.some((c) => c.endsWith("/0"))) return "all";
  const out: string[] = [];
  for (const addr of state.node.localAddresses) {
    const ip = addr.split("/")[0] ?? "";
    if (ipFamilyOf(ip) !== state.family || out.includes(ip)) continue;
    if (cidrContains(state.family === "IPv4" ? "127.0.0.0/8" : "::1/128", ip)) continue;
    if (cidrs.some((c) => cidrContains(c, ip))) out.push(ip);
  }
  return out;
}
