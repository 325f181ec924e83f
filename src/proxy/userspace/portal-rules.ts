import type { Frontend } from "./frontends.ts";

/** nat chains of the portal rules: upstream's historical userspace-mode names. */
export const portalChains = {
  /** From PREROUTING: traffic arriving from other hosts and network namespaces. */
  container: "KUBE-PORTALS-CONTAINER",
  /** From OUTPUT: traffic from processes on the node itself. */
  host: "KUBE-PORTALS-HOST",
  /** NodePorts from PREROUTING / OUTPUT (kept for upstream's layout; kproxy binds NodePorts directly). */
  nodePortContainer: "KUBE-NODEPORT-CONTAINER",
  nodePortHost: "KUBE-NODEPORT-HOST",
} as const;

/** The base chain each of kproxy's chains hangs from. */
export const portalJumps: readonly {
  readonly chain: string;
  readonly from: "PREROUTING" | "OUTPUT";
  readonly match: readonly string[];
}[] = [
  { chain: portalChains.container, from: "PREROUTING", match: [] },
  { chain: portalChains.host, from: "OUTPUT", match: [] },
  {
    chain: portalChains.nodePortContainer,
    from: "PREROUTING",
    match: ["-m", "addrtype", "--dst-type", "LOCAL"],
  },
  { chain: portalChains.nodePortHost, from: "OUTPUT", match: ["-m", "addrtype", "--dst-type", "LOCAL"] },
];

/** A portal frontend and the port its relay listens on. */
export interface Portal {
  readonly frontend: Frontend;
  readonly relayPort: number;
}

/**
 * The `iptables-restore --noflush` payload (nat table) for the portals: each service address:port
 * without a local owner is redirected to its relay's port. REDIRECT rewrites the destination to
 * the receiving interface's address (PREROUTING) or to loopback (OUTPUT); the relay listens on the
 * wildcard address, so both arrive, and conntrack restores the service address on the replies.
 * Declaring the chains flushes them, so the payload is the whole desired state. Pure.
 */
export function renderPortalRules(portals: readonly Portal[]): string {
  const lines = ["*nat"];
  for (const chain of Object.values(portalChains)) lines.push(`:${chain} - [0:0]`);
  const sorted = [...portals].sort((a, b) =>
    a.frontend.id < b.frontend.id ? -1 : a.frontend.id > b.frontend.id ? 1 : 0,
  );
  for (const { frontend: f, relayPort } of sorted) {
    const prefix = f.family === "IPv6" ? 128 : 32;
    const match =
      `-m comment --comment "${f.servicePortKey}${f.kind === "clusterIP" ? "" : ` ${f.kind}`}" ` +
      `-p ${f.protocol.toLowerCase()} -m ${f.protocol.toLowerCase()} -d ${f.address}/${prefix} --dport ${f.port}`;
    lines.push(`-A ${portalChains.container} ${match} -j REDIRECT --to-ports ${relayPort}`);
    lines.push(`-A ${portalChains.host} ${match} -j REDIRECT --to-ports ${relayPort}`);
  }
  lines.push("COMMIT", "");
  return lines.join("\n");
}
