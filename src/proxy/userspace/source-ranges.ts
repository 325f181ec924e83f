import { cidrContains, parseCIDR, type ParsedCIDR } from "../../model/ip.ts";

/**
 * A compiled `loadBalancerSourceRanges` check. Empty ranges allow everything; otherwise the
 * client must lie in one of them. Addresses arrive from sockets, so IPv4-mapped IPv6
 * (`::ffff:a.b.c.d`) is unwrapped first.
 */
export function sourceRangeFilter(ranges: readonly string[]): ((ip: string) => boolean) | undefined {
  if (ranges.length === 0) return undefined;
  const parsed = ranges.map((r) => parseCIDR(r)).filter((p): p is ParsedCIDR => p !== undefined);
  return (ip) => {
    const plain = ip.startsWith("::ffff:") && ip.includes(".") ? ip.slice(7) : ip;
    return parsed.some((p) => cidrContains(p, plain));
  };
}
