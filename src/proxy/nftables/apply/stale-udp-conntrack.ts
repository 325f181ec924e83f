import type { ProxyState } from "../../../model/proxy-state.ts";
import type { Executor } from "../../../sys/executor.ts";
import type { Logger } from "../../../sys/logger.ts";
import { categorizeEndpoints } from "../../../topology/categorize-endpoints.ts";
import { nodeZone } from "../../../model/node-info.ts";

/** One `conntrack -D` filter: UDP flows that must be forgotten so that they are NATed afresh. */
export interface StaleUdpFlow {
  /** `--orig-dst`: a service address. */
  readonly origDst?: string;
  /** `--orig-port-dst`: a service port or NodePort. */
  readonly origPortDst?: number;
  /** `--dst-nat`: an endpoint that went away. */
  readonly dstNat?: string;
}

/**
 * UDP conntrack entries that would keep sending traffic the wrong way after this sync (upstream
 * `conntrack.CleanStaleEntries`): flows NATed to an endpoint that is gone, and flows to a service
 * that had no endpoint (the kernel remembered them un-NATed) and now has one. `keys` limits the
 * check to the service ports that may have changed.
 */
export function staleUdpFlows(
  before: ProxyState | undefined,
  after: ProxyState,
  keys: Iterable<string>,
): StaleUdpFlow[] {
  const flows: StaleUdpFlow[] = [];
  const reachable = (state: ProxyState | undefined, key: string): Set<string> => {
    const svc = state?.services.get(key);
    if (state === undefined || svc === undefined) return new Set();
    const node = { name: state.node.name, zone: nodeZone(state.node) };
    const eps = categorizeEndpoints(state.endpoints.get(key) ?? [], svc, node).allReachableEndpoints;
    return new Set(eps.map((e) => e.ip));
  };
  for (const key of keys) {
    const svc = after.services.get(key) ?? before?.services.get(key);
    if (svc === undefined || svc.protocol !== "UDP") continue;
    const old = reachable(before, key);
    const now = reachable(after, key);
    const addresses = [svc.clusterIP, ...svc.externalIPs, ...svc.loadBalancerVIPs];
    for (const ip of old) {
      if (now.has(ip)) continue;
      for (const a of addresses) flows.push({ origDst: a, dstNat: ip });
      if (svc.nodePort !== 0) flows.push({ origPortDst: svc.nodePort, dstNat: ip });
    }
    if (old.size === 0 && now.size > 0) {
      for (const a of addresses) flows.push({ origDst: a, origPortDst: svc.port });
      if (svc.nodePort !== 0) flows.push({ origPortDst: svc.nodePort });
    }
  }
  return flows;
}

/**
 * Deletes the flows with the `conntrack` tool. "0 flow entries" is not an error; other failures
 * are logged, not thrown: the rules are already in place and the next change retries.
 */
export async function clearStaleUdpFlows(
  executor: Executor,
  flows: readonly StaleUdpFlow[],
  logger: Logger,
  family: "IPv4" | "IPv6",
): Promise<void> {
  for (const f of flows) {
    const args = ["-D", "-f", family === "IPv4" ? "ipv4" : "ipv6", "-p", "udp"];
    if (f.origDst !== undefined) args.push("--orig-dst", f.origDst);
    if (f.origPortDst !== undefined) args.push("--orig-port-dst", String(f.origPortDst));
    if (f.dstNat !== undefined) args.push("--dst-nat", f.dstNat);
    try {
      const r = await executor.run("conntrack", args);
      if (r.code !== 0 && !/0 flow entries/.test(r.stderr))
        logger.warn({ args, stderr: r.stderr.trim() }, "Cannot delete stale UDP conntrack entries");
    } catch (err) {
      logger.warn({ args, err }, "Cannot run conntrack to delete stale UDP entries");
    }
  }
}
