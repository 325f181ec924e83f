import type { Executor } from "../../sys/executor.ts";
import type { Logger } from "../../sys/logger.ts";
import type { StaleUdpEntries } from "./stale-udp-entries.ts";

/**
 * One `conntrack -D` call's arguments per stale filter:
 * - newly served service: `-p udp --orig-dst <ip> --orig-port-dst <port>` per address, and
 *   `-p udp --orig-port-dst <nodePort>` for its NodePort;
 * - removed endpoint: `-p udp --orig-dst <svcIP> --reply-src <endpointIP> --reply-port-src <port>`
 *   per service address, and `-p udp --orig-port-dst <nodePort> --reply-src <endpointIP>` …
 *   for its NodePort (the original destination is then some node address).
 * `-f ipv6` selects IPv6 entries. Pure.
 */
export function conntrackDeleteArgs(entries: StaleUdpEntries): string[][] {
  const out: string[][] = [];
  const fam = (family: string): string[] => (family === "IPv6" ? ["-f", "ipv6"] : []);
  for (const s of entries.services) {
    for (const ip of s.ips)
      out.push(["-D", ...fam(s.family), "-p", "udp", "--orig-dst", ip, "--orig-port-dst", String(s.port)]);
    if (s.nodePort > 0)
      out.push(["-D", ...fam(s.family), "-p", "udp", "--orig-port-dst", String(s.nodePort)]);
  }
  for (const e of entries.endpoints) {
    const reply = ["--reply-src", e.endpointIP, "--reply-port-src", String(e.endpointPort)];
    for (const ip of e.serviceIPs) {
      out.push([
        "-D",
        ...fam(e.family),
        "-p",
        "udp",
        "--orig-dst",
        ip,
        "--orig-port-dst",
        String(e.port),
        ...reply,
      ]);
    }
    if (e.nodePort > 0) {
      out.push(["-D", ...fam(e.family), "-p", "udp", "--orig-port-dst", String(e.nodePort), ...reply]);
    }
  }
  return out;
}

/** The result of a cleanup: entries deleted, and the calls that failed (other than "nothing matched"). */
export interface ConntrackCleanupResult {
  readonly deleted: number;
  readonly failures: readonly string[];
}

/**
 * Deletes stale UDP conntrack entries with the `conntrack` tool (used by the iptables and
 * nftables modes after each successful sync). `entries` comes from `staleUdpEntries(previous,
 * next)`. Never throws: a failed deletion is reported and logged, and the rules are already right.
 * Runs a few calls at a time; most find nothing, which `conntrack` reports with exit code 1.
 */
export async function clearStaleUdpConntrack(
  executor: Executor,
  entries: StaleUdpEntries,
  options: { readonly logger?: Logger; readonly concurrency?: number } = {},
): Promise<ConntrackCleanupResult> {
  const calls = conntrackDeleteArgs(entries);
  let deleted = 0;
  const failures: string[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < calls.length) {
      const args = calls[next++] as string[];
      try {
        const r = await executor.run("conntrack", args, { timeoutMs: 30_000 });
        const m = /(\d+) flow entries have been deleted/.exec(r.stderr + r.stdout);
        const n = m ? Number(m[1]) : 0;
        deleted += n;
        if (r.code !== 0 && m === null) failures.push(`conntrack ${args.join(" ")}: ${r.stderr.trim()}`);
      } catch (err) {
        failures.push(`conntrack ${args.join(" ")}: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(options.concurrency ?? 4, calls.length) }, worker));
  if (failures.length > 0)
    options.logger?.warn({ failures }, "could not delete some stale UDP conntrack entries");
  else if (calls.length > 0)
    options.logger?.debug({ calls: calls.length, deleted }, "deleted stale UDP conntrack entries");
  return { deleted, failures };
}
