import { connectionOverhead, leastWeightedOverhead } from "./least-connection.ts";
import type { Backend, PickContext, Scheduler } from "./scheduler.ts";

/**
 * Least connection (IPVS `lc`): the backend with the fewest connections, an active one counting
 * as 256 inactive ones; weights only matter as 0 (skipped). The first wins a tie.
 */
export function createLeastConnectionScheduler<B extends Backend>(): Scheduler<B> {
  let backends: readonly B[] = [];
  return {
    name: "lc",
    setBackends(next) {
      backends = next;
    },
    pick(_context: PickContext, exclude?: ReadonlySet<B>) {
      return leastWeightedOverhead(backends, exclude, connectionOverhead, false);
    },
  };
}
