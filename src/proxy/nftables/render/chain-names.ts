import { createHash } from "node:crypto";
import type { Endpoint } from "../../../model/endpoint.ts";
import type { ServicePortName } from "../../../model/service-port-name.ts";

/** nftables object names are at most 256 bytes; upstream keeps 16 for its prefixes. */
const nameBaseLengthMax = 256 - 16;
const base32Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/** Standard (RFC 4648) base32 with padding, as Go's `base32.StdEncoding`. */
export function base32(bytes: Uint8Array): string {
  let out = "";
  let bits = 0;
  let value = 0;
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += base32Alphabet[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += base32Alphabet[(value << (5 - bits)) & 31];
  while (out.length % 8 !== 0) out += "=";
  return out;
}

/**
 * Prefixes `name` with the first 8 characters of base32(sha256(name)) and truncates it to the
 * length upstream allows. The hash keeps names unique when truncated and makes chains of the same
 * service that differ in one digit easy to tell apart.
 */
export function hashAndTruncate(name: string): string {
  const hash = createHash("sha256").update(name).digest();
  const full = `${base32(hash).slice(0, 8)}-${name}`;
  return full.length > nameBaseLengthMax ? `${full.slice(0, nameBaseLengthMax - 3)}...` : full;
}

/**
 * `HASH-namespace/name/protocol/port`, e.g. `ULMVA6XW-ns1/svc1/tcp/p80`. Every part is made of
 * `[a-z0-9-]`, which nft accepts in names; `/` separates them because no part can contain it.
 */
export function servicePortChainNameBase(spn: ServicePortName): string {
  return hashAndTruncate(`${spn.namespace}/${spn.name}/${spn.protocol.toLowerCase()}/${spn.port}`);
}

/**
 * `HASH-namespace/name/protocol/port__ip/port`, e.g. `5OJB2KTY-ns1/svc1/tcp/p80__10.180.0.1/80`.
 * IPv6 colons are not allowed in nft names, so they become dots.
 */
export function servicePortEndpointChainNameBase(spn: ServicePortName, ep: Endpoint): string {
  const ip = ep.ip.replaceAll(":", ".");
  return hashAndTruncate(
    `${spn.namespace}/${spn.name}/${spn.protocol.toLowerCase()}/${spn.port}__${ip}/${ep.port}`,
  );
}

/** The chain and set names of one service port and its endpoints. */
export interface ServicePortNames {
  /** Endpoints for `Cluster` traffic policy. */
  readonly cluster: string;
  /** Endpoints for `Local` traffic policy. */
  readonly local: string;
  /** Entry point of NodePort, externalIP and load-balancer traffic. */
  readonly external: string;
  /** loadBalancerSourceRanges filter. */
  readonly firewall: string;
  endpoint(ep: Endpoint): string;
  affinity(ep: Endpoint): string;
}

/** Names of every chain and set of a service port, as upstream names them. */
export function servicePortNames(spn: ServicePortName): ServicePortNames {
  const base = servicePortChainNameBase(spn);
  // Renderers ask for an endpoint's names several times; hash each endpoint once.
  const endpointBases = new Map<string, string>();
  const endpointBase = (ep: Endpoint): string => {
    let b = endpointBases.get(ep.key);
    if (b === undefined) endpointBases.set(ep.key, (b = servicePortEndpointChainNameBase(spn, ep)));
    return b;
  };
  return {
    cluster: `service-${base}`,
    local: `local-${base}`,
    external: `external-${base}`,
    firewall: `firewall-${base}`,
    endpoint: (ep) => `endpoint-${endpointBase(ep)}`,
    affinity: (ep) => `affinity-${endpointBase(ep)}`,
  };
}

/** True for the per-service and per-endpoint chains (their names contain `/`; the fixed chains' never do). */
export function isServiceChainName(name: string): boolean {
  return name.includes("/");
}
