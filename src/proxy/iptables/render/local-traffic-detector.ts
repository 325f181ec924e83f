import type { ProxyConfig } from "../../../config/proxy-config.ts";
import { cidrFamilyOf } from "../../../model/ip.ts";
import type { NodeInfo } from "../../../model/node-info.ts";
import type { IPFamily } from "../../../model/protocol.ts";

/**
 * How rules tell pod traffic from other traffic (upstream `LocalTrafficDetector`): the match
 * arguments for "from a pod on this cluster" and its negation. Undefined when the configured mode
 * cannot tell (mode `None`, or no CIDR/interface of this family), in which case upstream writes
 * no rule that depends on it.
 */
export interface LocalTrafficDetector {
  readonly ifLocal: string;
  readonly ifNotLocal: string;
}

/** Builds the detector of one IP family from `detectLocalMode` and its inputs. */
export function localTrafficDetector(
  config: ProxyConfig,
  where: { readonly node: NodeInfo; readonly family: IPFamily },
): LocalTrafficDetector | undefined {
  const { node, family } = where;
  const byCIDR = (cidrs: readonly string[]): LocalTrafficDetector | undefined => {
    // Upstream takes one CIDR per family (the first), even when more are configured.
    const cidr = cidrs.map((c) => c.trim()).find((c) => cidrFamilyOf(c) === family);
    return cidr === undefined ? undefined : { ifLocal: `-s ${cidr}`, ifNotLocal: `! -s ${cidr}` };
  };
  switch (config.detectLocalMode) {
    case "ClusterCIDR":
      return byCIDR(config.clusterCIDRs);
    case "NodeCIDR":
      return byCIDR(node.podCIDRs);
    case "BridgeInterface": {
      const name = config.detectLocal.bridgeInterface;
      return name === "" ? undefined : { ifLocal: `-i ${name}`, ifNotLocal: `! -i ${name}` };
    }
    case "InterfaceNamePrefix": {
      const prefix = config.detectLocal.interfaceNamePrefix;
      // iptables treats a trailing "+" as a wildcard for interface names.
      return prefix === "" ? undefined : { ifLocal: `-i ${prefix}+`, ifNotLocal: `! -i ${prefix}+` };
    }
    case "None":
      return undefined;
  }
}
