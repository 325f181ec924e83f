import { readFileSync } from "node:fs";
import { isIP } from "node:net";

/**
 * The `nameserver` addresses of a resolv.conf file, in order (empty when the file is missing), to
 * use as upstream resolvers when none are configured — what CoreDNS's `forward . /etc/resolv.conf` does.
 */
export function resolvConfNameservers(path = "/etc/resolv.conf"): string[] {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const line of text.split("\n")) {
    const fields = line
      .replace(/[#;].*$/, "")
      .trim()
      .split(/\s+/);
    if (fields[0] !== "nameserver" || fields[1] === undefined) continue;
    // Drop an IPv6 zone (`fe80::1%eth0`): it cannot be used from every namespace anyway.
    const ip = fields[1].replace(/%.*$/, "");
    if (isIP(ip) !== 0) out.push(ip);
  }
  return out;
}
