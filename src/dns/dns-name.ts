import { isIP } from "node:net";
import { canonicalIP, ipToBigInt } from "../model/ip.ts";

/**
 * Lower-cases a domain name and strips its trailing dot, the form every index key uses: DNS names
 * compare case-insensitively (RFC 4343), and `dns-packet` decodes names without the root dot.
 */
export function normalizeName(name: string): string {
  const lower = name.toLowerCase();
  return lower.endsWith(".") && lower.length > 1 ? lower.slice(0, -1) : lower;
}

/** True when `name` is `zone` or below it (both normalised). */
export function isInZone(name: string, zone: string): boolean {
  return name === zone || name.endsWith(`.${zone}`);
}

const labelPattern = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/** True when `domain` is a valid host name: dot-separated labels of letters, digits and inner dashes. */
export function isValidDomain(domain: string): boolean {
  const d = normalizeName(domain);
  if (d.length === 0 || d.length > 253) return false;
  return d.split(".").every((label) => labelPattern.test(label));
}

/**
 * The name a PTR query for `ip` asks about: `4.3.2.1.in-addr.arpa` or the 32 reversed nibbles under
 * `ip6.arpa`. Undefined for anything that is not an IP address.
 */
export function reverseName(ip: string): string | undefined {
  const family = isIP(ip);
  if (family === 4) return `${ip.split(".").reverse().join(".")}.in-addr.arpa`;
  if (family !== 6) return undefined;
  const hex = ipToBigInt(ip).toString(16).padStart(32, "0");
  return `${[...hex].reverse().join(".")}.ip6.arpa`;
}

/** True when the (normalised) name lies in a reverse-lookup tree. */
export function isReverseName(name: string): boolean {
  return name.endsWith(".in-addr.arpa") || name.endsWith(".ip6.arpa");
}

/**
 * The IP a pod record's first label stands for: `10-0-0-5` → `10.0.0.5`, `fd00--5` → `fd00::5`
 * (canonical form), or undefined when the label is not an address. Dashes replace dots when there
 * are exactly three and no empty group, else colons — the same reading CoreDNS applies.
 */
export function podLabelIP(label: string): string | undefined {
  const dashes = label.split("-").length - 1;
  const text =
    dashes === 3 && !label.includes("--") ? label.replaceAll("-", ".") : label.replaceAll("-", ":");
  return canonicalIP(text);
}

const hostnamePattern = /^[-a-z0-9]{1,63}$/;

/**
 * The host label of one endpoint address under its Service: the EndpointSlice's `hostname`, else
 * (with `endpointPodNames`) the name of the Pod it targets, else the address with its dots or colons
 * turned into dashes. Undefined when the result is not usable as one DNS label (for example a Pod
 * name containing dots), so that it cannot create names in some other part of the tree.
 */
export function endpointHostname(
  address: string,
  options: { hostname?: string | undefined; podName?: string | undefined; endpointPodNames: boolean },
): string | undefined {
  let label: string;
  if (options.hostname) label = options.hostname;
  else if (options.endpointPodNames && options.podName) label = options.podName;
  else if (address.includes(".")) label = address.replaceAll(".", "-");
  else label = address.replaceAll(":", "-");
  label = label.toLowerCase();
  return hostnamePattern.test(label) ? label : undefined;
}
