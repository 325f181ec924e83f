import { schedulable, type Backend, type PickContext, type Scheduler } from "./scheduler.ts";

/**
 * Never queue (IPVS `nq`): the first idle backend (no active connection) if there is one,
 * otherwise the shortest expected delay `(active + 1) / weight`.
 */
export function createNeverQueueScheduler<B extends Backend>(): Scheduler<B> {
  let backends: readonly B[] = [];
  return {
    name: "nq",
    setBackends(next) {
      backends = next;
    },
    pick(_context: PickContext, exclude?: ReadonlySet<B>) {
      let least: B | undefined;
      let loh = 0;
      for (const b of backends) {
        if (!schedulable(b, exclude)) continue;
        const doh = b.activeConnections;
        if (doh === 0) return b;
        if (least === undefined || (loh + 1) * b.weight > (doh + 1) * least.weight) {
          least = b;
          loh = doh;
        }
      }
      return least;
    },
  };
}
