import { schedulable, type Backend, type PickContext, type Scheduler } from "./scheduler.ts";

/**
 * Round robin (IPVS `rr`): each new connection goes to the next schedulable backend after the one
 * chosen last. An endpoint-set update keeps the position: the scan resumes after the backend
 * chosen last, or at the index it had when it is gone.
 */
export function createRoundRobinScheduler<B extends Backend>(): Scheduler<B> {
  let backends: readonly B[] = [];
  // Index of the backend chosen last; -1 before the first pick (so the first pick is backends[0]).
  let last = -1;
  let lastKey: string | undefined;
  return {
    name: "rr",
    setBackends(next) {
      if (lastKey !== undefined) {
        const i = next.findIndex((b) => b.key === lastKey);
        // Gone: resume just before its old slot, so that its successor comes next.
        last = i >= 0 ? i : Math.min(last, next.length) - 1;
      }
      backends = next;
    },
    pick(_context: PickContext, exclude?: ReadonlySet<B>) {
      const n = backends.length;
      for (let step = 1; step <= n; step++) {
        const i = (((last + step) % n) + n) % n;
        const b = backends[i] as B;
        if (schedulable(b, exclude)) {
          last = i;
          lastKey = b.key;
          return b;
        }
      }
      return undefined;
    },
  };
}
