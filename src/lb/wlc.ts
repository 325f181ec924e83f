import { connectionOverhead, leastWeightedOverhead } from "./least-connection.ts";
import type { Backend, PickContext, Scheduler } from "./scheduler.ts";

/** Weighted least connection (IPVS `wlc`): the lowest connection overhead divided by weight. */
export function createWeightedLeastConnectionScheduler<B extends Backend>(): Scheduler<B> {
  let backends: readonly B[] = [];
  return {
    name: "wlc",
    setBackends(next) {
      backends = next;
    },
    pick(_context: PickContext, exclude?: ReadonlySet<B>) {
      return leastWeightedOverhead(backends, exclude, connectionOverhead, true);
    },
  };
}
