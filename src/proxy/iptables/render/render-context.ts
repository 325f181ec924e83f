import type { ProxyConfig } from "../../../config/proxy-config.ts";
import { masqueradeMark } from "../../../config/defaults.ts";
import { ipFamilyOf } from "../../../model/ip.ts";
import { nodeZone } from "../../../model/node-info.ts";
import type { ProxyState } from "../../../model/proxy-state.ts";
import type { IPFamily } from "../../../model/protocol.ts";
import type { KernelFeatures } from "../../kernel-features.ts";
import { localTrafficDetector, type LocalTrafficDetector } from "./local-traffic-detector.ts";
import { nodePortAddresses, type NodePortAddresses } from "./node-port-addresses.ts";

/**
 * Upstream's threshold: above this many endpoints in total, per-endpoint comments are left out,
 * which shrinks the payload by about 40% (upstream `largeClusterEndpointsThreshold`).
 */
export const largeClusterEndpointsThreshold = 1000;

/** Everything about the node, configuration and kernel that the rules of one family depend on. */
export interface RenderContext {
  readonly family: IPFamily;
  readonly nodeName: string;
  readonly nodeZone: string;
  /** The node's primary IP of this family (for `loadBalancerSourceRanges` that include the node). */
  readonly nodeIP: string | undefined;
  readonly detector: LocalTrafficDetector | undefined;
  readonly masqueradeAll: boolean;
  /** e.g. `0x4000`. */
  readonly masqueradeMark: string;
  /** Localhost NodePorts in effect: configured, IPv4, and loopback inside `nodePortAddresses`. */
  readonly localhostNodePorts: boolean;
  readonly nodePortAddresses: NodePortAddresses;
  readonly features: KernelFeatures;
  /** `conntrack.tcpBeLiberal`: without it, INVALID packets are dropped in KUBE-FORWARD. */
  readonly conntrackTCPLiberal: boolean;
  readonly largeClusterMode: boolean;
}

/** Derives the render context of a state's family. */
export function renderContext(
  state: ProxyState,
  options: {
    readonly config: ProxyConfig;
    readonly features: KernelFeatures;
    readonly largeClusterMode: boolean;
  },
): RenderContext {
  const { config, features, largeClusterMode } = options;
  const family = state.family;
  const npa = nodePortAddresses(config.nodePortAddresses, { node: state.node, family });
  return {
    family,
    nodeName: state.node.name,
    nodeZone: nodeZone(state.node),
    nodeIP: state.node.nodeIPs.find((ip) => ipFamilyOf(ip) === family),
    detector: localTrafficDetector(config, { node: state.node, family }),
    masqueradeAll: config.iptables.masqueradeAll,
    masqueradeMark: masqueradeMark(config.iptables.masqueradeBit),
    localhostNodePorts: family === "IPv4" && config.iptables.localhostNodePorts && npa.containsIPv4Loopback,
    nodePortAddresses: npa,
    features,
    conntrackTCPLiberal: config.conntrack.tcpBeLiberal,
    largeClusterMode,
  };
}

/** A stable fingerprint of a context: equal fingerprints render equal rules for equal services. */
export function contextKey(ctx: RenderContext): string {
  return JSON.stringify(ctx);
}
