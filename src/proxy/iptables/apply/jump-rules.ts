import {
  kubeExternalServicesChain,
  kubeForwardChain,
  kubeletFirewallChain,
  kubeNodePortsChain,
  kubePostroutingChain,
  kubeProxyFirewallChain,
  kubeServicesChain,
} from "../render/chain-names.ts";
import type { IptablesTable } from "../render/iptables-rule-set.ts";

/** A rule in a built-in chain that sends packets into one of kproxy's chains. */
export interface JumpRule {
  readonly table: IptablesTable;
  /** The built-in chain, e.g. `PREROUTING`. */
  readonly from: string;
  readonly to: string;
  readonly spec: string;
}

function jump(table: IptablesTable, from: string, to: string, comment: string, extra = ""): JumpRule {
  const c = comment === "" ? "" : `-m comment --comment "${comment}" `;
  return { table, from, to, spec: `${extra}${c}-j ${to}` };
}

const newOnly = "-m conntrack --ctstate NEW ";

/**
 * Upstream's top-level jumps (`iptablesJumpChains`), in its order. Each is inserted at the top of
 * its built-in chain when missing, as upstream's `EnsureRule(Prepend, …)` does.
 */
export const jumpRules: readonly JumpRule[] = [
  jump(
    "filter",
    "INPUT",
    kubeExternalServicesChain,
    "kubernetes externally-visible service portals",
    newOnly,
  ),
  jump(
    "filter",
    "FORWARD",
    kubeExternalServicesChain,
    "kubernetes externally-visible service portals",
    newOnly,
  ),
  jump("filter", "INPUT", kubeNodePortsChain, "kubernetes health check service ports"),
  jump("filter", "FORWARD", kubeServicesChain, "kubernetes service portals", newOnly),
  jump("filter", "OUTPUT", kubeServicesChain, "kubernetes service portals", newOnly),
  jump("filter", "FORWARD", kubeForwardChain, "kubernetes forwarding rules"),
  jump("filter", "INPUT", kubeProxyFirewallChain, "kubernetes load balancer firewall", newOnly),
  jump("filter", "OUTPUT", kubeProxyFirewallChain, "kubernetes load balancer firewall", newOnly),
  jump("filter", "FORWARD", kubeProxyFirewallChain, "kubernetes load balancer firewall", newOnly),
  jump("nat", "OUTPUT", kubeServicesChain, "kubernetes service portals"),
  jump("nat", "PREROUTING", kubeServicesChain, "kubernetes service portals"),
  jump("nat", "POSTROUTING", kubePostroutingChain, "kubernetes postrouting rules"),
];

/**
 * Jumps to the anti-martian chain, exactly as kubelet writes them (no comment), so that a node
 * where kubelet made them does not get a second copy. Only used with localhost NodePorts.
 */
export const firewallJumpRules: readonly JumpRule[] = [
  jump("filter", "INPUT", kubeletFirewallChain, ""),
  jump("filter", "OUTPUT", kubeletFirewallChain, ""),
];
