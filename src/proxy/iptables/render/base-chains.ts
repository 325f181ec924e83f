import {
  kubeExternalServicesChain,
  kubeForwardChain,
  kubeletFirewallChain,
  kubeMarkMasqChain,
  kubeNodePortsChain,
  kubePostroutingChain,
  kubeProxyFirewallChain,
  kubeServicesChain,
} from "./chain-names.ts";
import type { ChainRule } from "./iptables-rule-set.ts";
import type { RenderContext } from "./render-context.ts";

/** Counter upstream uses for INVALID packets dropped in KUBE-FORWARD (only when nfacct objects exist). */
export const ctStateInvalidDroppedCounter = "ct_state_invalid_dropped_pkts";

/** The chains and rules that do not depend on any service. */
export interface BaseChains {
  readonly filterChains: readonly string[];
  readonly natChains: readonly string[];
  readonly filterHead: readonly ChainRule[];
  readonly natHead: readonly ChainRule[];
  readonly filterTail: readonly ChainRule[];
  readonly natTail: readonly ChainRule[];
}

/** Renders the base chains of one family, in upstream's order. */
export function baseChains(ctx: RenderContext): BaseChains {
  const mark = ctx.masqueradeMark;
  const filterChains = [
    kubeServicesChain,
    kubeExternalServicesChain,
    kubeForwardChain,
    kubeNodePortsChain,
    kubeProxyFirewallChain,
  ];
  const natChains = [kubeServicesChain, kubeNodePortsChain, kubePostroutingChain, kubeMarkMasqChain];
  const filterHead: ChainRule[] = [];
  const natHead: ChainRule[] = [
    { chain: kubePostroutingChain, spec: `-m mark ! --mark ${mark}/${mark} -j RETURN` },
    // Clear the mark so that a packet traversing the stack again is not masqueraded twice.
    { chain: kubePostroutingChain, spec: `-j MARK --xor-mark ${mark}` },
    {
      chain: kubePostroutingChain,
      spec: `-m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE${ctx.features.randomFully ? " --random-fully" : ""}`,
    },
    { chain: kubeMarkMasqChain, spec: `-j MARK --or-mark ${mark}` },
  ];
  if (ctx.localhostNodePorts) {
    // route_localnet (needed for localhost NodePorts) lets martian packets to 127/8 in from
    // outside (kubernetes#90259); this rule, a copy of kubelet's, drops them again.
    filterChains.push(kubeletFirewallChain);
    filterHead.push({
      chain: kubeletFirewallChain,
      spec: `-m comment --comment "block incoming localnet connections" -d 127.0.0.0/8 ! -s 127.0.0.0/8 -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP`,
    });
  }

  const natTail: ChainRule[] = [];
  const nodePortsComment = `-m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain"`;
  if (ctx.nodePortAddresses.matchAll) {
    let destinations = "-m addrtype --dst-type LOCAL";
    // Localhost NodePorts never work with IPv6, and with IPv4 only with route_localnet.
    if (ctx.family === "IPv6") destinations += " ! -d ::1/128";
    else if (!ctx.localhostNodePorts) destinations += " ! -d 127.0.0.0/8";
    natTail.push({
      chain: kubeServicesChain,
      spec: `${nodePortsComment} ${destinations} -j ${kubeNodePortsChain}`,
    });
  } else {
    for (const ip of ctx.nodePortAddresses.nodeIPs) {
      const loopback = ip === "::1" || ip.startsWith("127.");
      if (loopback && (ctx.family === "IPv6" || !ctx.localhostNodePorts)) continue;
      natTail.push({
        chain: kubeServicesChain,
        spec: `${nodePortsComment} -d ${ip} -j ${kubeNodePortsChain}`,
      });
    }
  }

  const filterTail: ChainRule[] = [];
  if (!ctx.conntrackTCPLiberal) {
    // Without tcp_be_liberal, conntrack marks out-of-window packets INVALID; forwarded as they
    // are (un-DNATed) they reach the client, which resets the connection (kubernetes#74839).
    const nfacct = ctx.features.nfacct ? ` -m nfacct --nfacct-name ${ctStateInvalidDroppedCounter}` : "";
    filterTail.push({ chain: kubeForwardChain, spec: `-m conntrack --ctstate INVALID${nfacct} -j DROP` });
  }
  filterTail.push(
    {
      chain: kubeForwardChain,
      spec: `-m comment --comment "kubernetes forwarding rules" -m mark --mark ${mark}/${mark} -j ACCEPT`,
    },
    {
      chain: kubeForwardChain,
      spec: `-m comment --comment "kubernetes forwarding conntrack rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT`,
    },
  );
  return { filterChains, natChains, filterHead, natHead, filterTail, natTail };
}
