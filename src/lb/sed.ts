import { leastWeightedOverhead } from "./least-connection.ts";
import type { Backend, PickContext, Scheduler } from "./scheduler.ts";

/**
 * Shortest expected delay (IPVS `sed`): the lowest `(active + 1) / weight`, i.e. the delay the
 * new connection would see; inactive connections are ignored.
 */
export function createShortestExpectedDelayScheduler<B extends Backend>(): Scheduler<B> {
  let backends: readonly B[] = [];
  return {
    name: "sed",
    setBackends(next) {
      backends = next;
    },
    pick(_context: PickContext, exclude?: ReadonlySet<B>) {
      return leastWeightedOverhead(backends, exclude, (b) => b.activeConnections + 1, true);
    },
  };
}
