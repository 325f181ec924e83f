import { isIP } from "node:net";
import type { IPFamily } from "./protocol.ts";

/** The family of a textual IP address, or undefined when it is not one. */
export function ipFamilyOf(ip: string): IPFamily | undefined {
  const v = isIP(ip);
  return v === 4 ? "IPv4" : v === 6 ? "IPv6" : undefined;
}

/** The family of a CIDR such as `10.0.0.0/8`, or undefined when it is not one. */
export function cidrFamilyOf(cidr: string): IPFamily | undefined {
  const parsed = parseCIDR(cidr);
  return parsed?.family;
}

/** A parsed CIDR. `bits` is the address as a bigint, `prefix` its prefix length. */
export interface ParsedCIDR {
  readonly family: IPFamily;
  readonly bits: bigint;
  readonly prefix: number;
}

/** Parses `a.b.c.d/n` or `x::y/n`; returns undefined when malformed. Host bits are masked off. */
export function parseCIDR(cidr: string): ParsedCIDR | undefined {
  const slash = cidr.indexOf("/");
  if (slash < 0) return undefined;
  const ip = cidr.slice(0, slash);
  const prefixText = cidr.slice(slash + 1);
  if (!/^\d{1,3}$/.test(prefixText)) return undefined;
  const family = ipFamilyOf(ip);
  if (family === undefined) return undefined;
  const prefix = Number(prefixText);
  const width = family === "IPv4" ? 32 : 128;
  if (prefix > width) return undefined;
  const bits = ipToBigInt(ip);
  const mask = prefix === 0 ? 0n : ((1n << BigInt(prefix)) - 1n) << BigInt(width - prefix);
  return { family, bits: bits & mask, prefix };
}

/** True when `ip` lies inside `cidr`. False for malformed input or mismatched families. */
export function cidrContains(cidr: string | ParsedCIDR, ip: string): boolean {
  const parsed = typeof cidr === "string" ? parseCIDR(cidr) : cidr;
  const family = ipFamilyOf(ip);
  if (parsed === undefined || family !== parsed.family) return false;
  const width = family === "IPv4" ? 32 : 128;
  const mask =
    parsed.prefix === 0 ? 0n : ((1n << BigInt(parsed.prefix)) - 1n) << BigInt(width - parsed.prefix);
  return (ipToBigInt(ip) & mask) === parsed.bits;
}

/** The numeric value of an IPv4 or IPv6 address (which must be valid). */
export function ipToBigInt(ip: string): bigint {
  if (isIP(ip) === 4) {
    return ip.split(".").reduce((acc, octet) => (acc << 8n) | BigInt(Number(octet)), 0n);
  }
  const [head = "", tail] = ip.split("::");
  const parseGroups = (s: string): bigint[] => {
    if (s === "") return [];
    const out: bigint[] = [];
    for (const part of s.split(":")) {
      if (part.includes(".")) {
        const v4 = ipToBigInt(part);
        out.push(v4 >> 16n, v4 & 0xffffn);
      } else {
        out.push(BigInt(parseInt(part, 16)));
      }
    }
    return out;
  };
  const headGroups = parseGroups(head);
  const tailGroups = tail === undefined ? [] : parseGroups(tail);
  const fill =
    tail === undefined ? [] : new Array<bigint>(8 - headGroups.length - tailGroups.length).fill(0n);
  return [...headGroups, ...fill, ...tailGroups].reduce((acc, g) => (acc << 16n) | g, 0n);
}

/** Formats a numeric address of the given family back to text (IPv6 compressed as RFC 5952). */
export function bigIntToIP(value: bigint, family: IPFamily): string {
  if (family === "IPv4") {
    return [24n, 16n, 8n, 0n].map((s) => String((value >> s) & 0xffn)).join(".");
  }
  const groups: number[] = [];
  for (let i = 7; i >= 0; i--) groups.push(Number((value >> BigInt(i * 16)) & 0xffffn));
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen && j - i > 1) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(":");
  return `${hex.slice(0, bestStart).join(":")}::${hex.slice(bestStart + bestLen).join(":")}`;
}

/** Normalises an address to its canonical text form (e.g. `::ffff:0:1` spacing, leading zeros). */
export function canonicalIP(ip: string): string | undefined {
  const family = ipFamilyOf(ip);
  return family === undefined ? undefined : bigIntToIP(ipToBigInt(ip), family);
}
