import type { FieldProblem } from "../../errors.ts";
import { cidrContains, ipFamilyOf, parseCIDR } from "../../model/ip.ts";
import { invalid } from "./field-errors.ts";

/** `field: Invalid value: "x": must be a valid IP address, ...` unless `value` is an IP. */
export function validateIP(field: string, value: string): FieldProblem[] {
  return ipFamilyOf(value) === undefined
    ? [invalid(field, value, "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)", "10.9.8.7")]
    : [];
}

/** `must be a valid CIDR value` unless `value` is one (host bits may be set, as upstream allows). */
export function validateCIDR(field: string, value: string): FieldProblem[] {
  return parseCIDR(value) === undefined
    ? [
        invalid(
          field,
          value,
          "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)",
          "10.9.8.0/24",
        ),
      ]
    : [];
}

/** An IPv4 address (EndpointSlice `addressType: IPv4`). */
export function validateIPv4Address(field: string, value: string): FieldProblem[] {
  return ipFamilyOf(value) === "IPv4"
    ? []
    : [invalid(field, value, "must be a valid IPv4 address", "10.9.8.7")];
}

/** An IPv6 address (EndpointSlice `addressType: IPv6`). */
export function validateIPv6Address(field: string, value: string): FieldProblem[] {
  return ipFamilyOf(value) === "IPv6"
    ? []
    : [invalid(field, value, "must be a valid IPv6 address", "2001:db8::ffff")];
}

/**
 * Rejects addresses that make no sense as a Service's external IP or an endpoint: unspecified,
 * link-local and link-local multicast (upstream's `ValidateNonSpecialIP`). Upstream also rejects
 * loopback; kproxy accepts it because its embedded server and demo run whole clusters on
 * 127.0.0.0/8 (cluster IPs and backends alike), which is the point of a laptop-sized proxy.
 */
export function validateNonSpecialIP(field: string, value: string): FieldProblem[] {
  const family = ipFamilyOf(value);
  if (family === undefined) return [invalid(field, value, "must be a valid IP address")];
  const problems: FieldProblem[] = [];
  if (cidrContains(family === "IPv4" ? "0.0.0.0/32" : "::/128", value)) {
    problems.push(invalid(field, value, `may not be unspecified (${value})`));
  }
  if (cidrContains("169.254.0.0/16", value) || cidrContains("fe80::/10", value)) {
    problems.push(invalid(field, value, "may not be in the link-local range (169.254.0.0/16, fe80::/10)"));
  }
  if (cidrContains("224.0.0.0/24", value) || isIPv6LinkLocalMulticast(value)) {
    problems.push(
      invalid(field, value, "may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)"),
    );
  }
  return problems;
}

/** ffX2::/16 for any flags X, as Go's `IsLinkLocalMulticast` tests it. */
function isIPv6LinkLocalMulticast(value: string): boolean {
  if (ipFamilyOf(value) !== "IPv6") return false;
  return /^ff[0-9a-f]2:/i.test(value);
}
