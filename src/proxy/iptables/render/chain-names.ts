import { createHash } from "node:crypto";
import type { Protocol } from "../../../model/protocol.ts";

/** kproxy's (and kube-proxy's) shared chains, by the names upstream gives them. */
export const kubeServicesChain = "KUBE-SERVICES";
export const kubeExternalServicesChain = "KUBE-EXTERNAL-SERVICES";
export const kubeNodePortsChain = "KUBE-NODEPORTS";
export const kubePostroutingChain = "KUBE-POSTROUTING";
export const kubeMarkMasqChain = "KUBE-MARK-MASQ";
export const kubeForwardChain = "KUBE-FORWARD";
export const kubeProxyFirewallChain = "KUBE-PROXY-FIREWALL";
/** Duplicate of kubelet's chain holding the anti-martian rule for localhost NodePorts. */
export const kubeletFirewallChain = "KUBE-FIREWALL";
/** Empty chain whose disappearance shows that someone flushed the table (upstream's iptables Monitor). */
export const kubeProxyCanaryChain = "KUBE-PROXY-CANARY";

const servicePrefixes = ["KUBE-SVC-", "KUBE-SVL-", "KUBE-EXT-", "KUBE-FW-", "KUBE-SEP-"] as const;

// RFC 4648 base32 alphabet, as Go's base32.StdEncoding uses.
const base32Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/** The first `length` characters of the standard base32 encoding of `bytes` (no padding needed). */
function base32Prefix(bytes: Uint8Array, length: number): string {
  let out = "";
  let buffer = 0;
  let bits = 0;
  for (const byte of bytes) {
    buffer = ((buffer << 8) | byte) & 0xffff;
    bits += 8;
    while (bits >= 5) {
      out += base32Alphabet[(buffer >> (bits - 5)) & 31];
      bits -= 5;
      if (out.length === length) return out;
    }
  }
  return out;
}

/**
 * The 16-character hash of a chain name: base32(SHA-256(text)) truncated, exactly as upstream's
 * `portProtoHash`, so that chain names match kube-proxy's and its rule dumps compare. Chain
 * names must stay within iptables' 28 characters; `KUBE-SEP-` + 16 = 25.
 */
export function chainHash(text: string): string {
  return base32Prefix(createHash("sha256").update(text).digest(), 16);
}

/** The per-service-port chain names (upstream derives all four from one hash). */
export interface ServicePortChainNames {
  /** `KUBE-SVC-…`: endpoints for `Cluster` traffic policy. */
  readonly cluster: string;
  /** `KUBE-SVL-…`: node-local endpoints for `Local` traffic policy. */
  readonly local: string;
  /** `KUBE-EXT-…`: external traffic (NodePort, externalIPs, LoadBalancer IPs). */
  readonly external: string;
  /** `KUBE-FW-…`: `loadBalancerSourceRanges` filter. */
  readonly firewall: string;
}

/** Chain names of one service port; `servicePortName` is `ns/name:port`, `protocol` e.g. `TCP`. */
export function servicePortChainNames(servicePortName: string, protocol: Protocol): ServicePortChainNames {
  const hash = chainHash(servicePortName + protocol.toLowerCase());
  return {
    cluster: `KUBE-SVC-${hash}`,
    local: `KUBE-SVL-${hash}`,
    external: `KUBE-EXT-${hash}`,
    firewall: `KUBE-FW-${hash}`,
  };
}

/** `KUBE-SEP-…` of one endpoint (`ip:port`, `[ip]:port` for IPv6) of one service port. */
export function endpointChainName(servicePortName: string, protocol: Protocol, endpoint: string): string {
  return `KUBE-SEP-${chainHash(servicePortName + protocol.toLowerCase() + endpoint)}`;
}

/** True for the per-service and per-endpoint chains (which kproxy may delete when stale). */
export function isServiceChainName(chain: string): boolean {
  return servicePrefixes.some((p) => chain.startsWith(p));
}
