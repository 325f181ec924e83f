import type { ProxyConfig } from "../../config/proxy-config.ts";
import { cidrContains, ipFamilyOf } from "../../model/ip.ts";
import type { NodeInfo } from "../../model/node-info.ts";
import type { IPFamily, Protocol } from "../../model/protocol.ts";
import type { ProxyState } from "../../model/proxy-state.ts";
import type { ServicePort } from "../../model/service-port.ts";

/** Which kind of service address a frontend serves. */
export type FrontendKind = "clusterIP" | "externalIP" | "loadBalancer" | "nodePort";

/**
 * How a frontend's traffic reaches its relay: `direct` binds the service address itself (it is
 * local to the node, e.g. in 127.0.0.0/8); `portal` listens on a free port of the wildcard address
 * and a nat rule redirects the service address:port to it (root, address owned by no interface).
 */
export type FrontendBinding = "direct" | "portal";

/** One service address:port the relays serve. */
export interface Frontend {
  /** `TCP/10.96.0.1:80` (`TCP/[fd00::1]:80`): identity across syncs. */
  readonly id: string;
  readonly servicePortKey: string;
  readonly serviceKey: string;
  readonly family: IPFamily;
  readonly protocol: Exclude<Protocol, "SCTP">;
  readonly kind: FrontendKind;
  /** The service address; `0.0.0.0`/`::` for a NodePort on every node address. */
  readonly address: string;
  readonly port: number;
  /** External traffic (eTP Local applies): NodePorts, external IPs and load-balancer IPs. */
  readonly external: boolean;
  /** Sources allowed on a load-balancer IP (empty: all). */
  readonly sourceRanges: readonly string[];
  readonly binding: FrontendBinding;
}

/** A service address kproxy could not serve, and why (logged, never fatal). */
export interface SkippedFrontend {
  readonly servicePortKey: string;
  readonly address: string;
  readonly reason: string;
}

/** True when the kernel treats `ip` as one of this node's own addresses. */
export function isLocalAddress(ip: string, node: NodeInfo): boolean {
  // The whole of 127.0.0.0/8 is local (the loopback route covers it), as is ::1.
  if (ipFamilyOf(ip) === "IPv4" && ip.startsWith("127.")) return true;
  if (ip === "::1") return true;
  return node.localAddresses.some((cidr) => cidr.slice(0, cidr.indexOf("/") >>> 0) === ip);
}

/** `TCP/1.2.3.4:80`, `UDP/[fd00::1]:53`. */
export function frontendId(protocol: Protocol, address: string, port: number): string {
  return `${protocol}/${address.includes(":") ? `[${address}]` : address}:${port}`;
}

/**
 * The node addresses NodePorts listen on, honouring `nodePortAddresses` (CIDRs, or `primary` for
 * the node IPs). Empty `nodePortAddresses` means every address: the wildcard address.
 */
export function nodePortAddresses(config: ProxyConfig, node: NodeInfo, family: IPFamily): string[] {
  const wanted = config.nodePortAddresses;
  if (wanted.length === 0) return [family === "IPv4" ? "0.0.0.0" : "::"];
  const local = node.localAddresses.map((cidr) => cidr.split("/")[0] ?? "");
  const out = new Set<string>();
  for (const spec of wanted) {
    if (spec === "primary") {
      for (const ip of node.nodeIPs) if (ipFamilyOf(ip) === family) out.add(ip);
      continue;
    }
    for (const ip of local) if (ipFamilyOf(ip) === family && cidrContains(spec, ip)) out.add(ip);
  }
  return [...out].sort();
}

/**
 * Every frontend of a state: for each TCP/UDP service port, its ClusterIP, external IPs,
 * load-balancer IPs and NodePorts. Each address is bound directly when local; otherwise through a
 * portal when `portals` is true (root), and skipped with a reason when not. SCTP is skipped (Node
 * has no SCTP sockets).
 */
export function desiredFrontends(
  state: ProxyState,
  config: ProxyConfig,
  options: { readonly portals: boolean },
): { frontends: Frontend[]; skipped: SkippedFrontend[] } {
  const frontends: Frontend[] = [];
  const skipped: SkippedFrontend[] = [];
  const nodePortIPs = nodePortAddresses(config, state.node, state.family);
  for (const svc of state.services.values()) {
    if (svc.protocol === "SCTP") {
      skipped.push({
        servicePortKey: svc.key,
        address: svc.clusterIP,
        reason: "SCTP is not supported by the userspace relays (Node has no SCTP sockets)",
      });
      continue;
    }
    const add = (kind: FrontendKind, address: string, port: number): void => {
      const local = kind === "nodePort" || isLocalAddress(address, state.node);
      if (!local && !options.portals) {
        skipped.push({
          servicePortKey: svc.key,
          address,
          reason: `${address} is not a local address and portal rules need root; give the address to an interface or run as root`,
        });
        return;
      }
      frontends.push(frontend(svc, kind, address, port, local ? "direct" : "portal"));
    };
    add("clusterIP", svc.clusterIP, svc.port);
    for (const ip of svc.externalIPs) add("externalIP", ip, svc.port);
    for (const ip of svc.loadBalancerVIPs) add("loadBalancer", ip, svc.port);
    if (svc.nodePort > 0) for (const ip of nodePortIPs) add("nodePort", ip, svc.nodePort);
  }
  // Two services may claim one address:port (e.g. the same external IP); the first one wins.
  const seen = new Set<string>();
  const unique = frontends.filter((f) => {
    if (seen.has(f.id)) {
      skipped.push({
        servicePortKey: f.servicePortKey,
        address: f.address,
        reason: `${f.id} is already served`,
      });
      return false;
    }
    seen.add(f.id);
    return true;
  });
  return { frontends: unique, skipped };
}

function frontend(
  svc: ServicePort,
  kind: FrontendKind,
  address: string,
  port: number,
  binding: FrontendBinding,
): Frontend {
  const protocol = svc.protocol as Exclude<Protocol, "SCTP">;
  return {
    id: frontendId(protocol, address, port),
    servicePortKey: svc.key,
    serviceKey: svc.serviceKey,
    family: svc.family,
    protocol,
    kind,
    address,
    port,
    external: kind !== "clusterIP",
    sourceRanges: kind === "loadBalancer" ? svc.loadBalancerSourceRanges : [],
    binding,
  };
}
