import { schedulable, type Backend } from "./scheduler.ts";

/**
 * Picks the schedulable backend with the lowest `overhead / weight`, comparing by
 * cross-multiplication as IPVS does (no division); the first one wins a tie. Shared by the
 * least-connection family (lc, wlc, sed), which differ only in their overhead.
 */
export function leastWeightedOverhead<B extends Backend>(
  backends: readonly B[],
  exclude: ReadonlySet<B> | undefined,
  overhead: (b: B) => number,
  weighted: boolean,
): B | undefined {
  let least: B | undefined;
  let loh = 0;
  for (const b of backends) {
    if (!schedulable(b, exclude)) continue;
    const doh = overhead(b);
    if (least === undefined) {
      least = b;
      loh = doh;
    } else if (weighted ? loh * b.weight > doh * least.weight : doh < loh) {
      least = b;
      loh = doh;
    }
  }
  return least;
}

/** IPVS `ip_vs_dest_conn_overhead`: an active connection costs 256 inactive ones. */
export function connectionOverhead(b: Backend): number {
  return b.activeConnections * 256 + b.inactiveConnections;
}
