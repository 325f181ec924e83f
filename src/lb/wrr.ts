import { schedulable, type Backend, type PickContext, type Scheduler } from "./scheduler.ts";

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

/**
 * Weighted round robin (IPVS `wrr`): interleaved by a current weight `cw` that starts at the
 * largest weight and drops by the weights' gcd after each pass over the list; a pass picks every
 * backend whose weight is at least `cw`. Weights 4, 3, 2 give a a b a b c a b c.
 */
export function createWeightedRoundRobinScheduler<B extends Backend>(): Scheduler<B> {
  let backends: readonly B[] = [];
  let position = -1; // index of the backend chosen last; -1 = the list head
  let di = 1; // gcd of the positive weights
  let mw = 0; // max weight, less (di - 1), as IPVS computes it
  let cw = 0;
  function recompute(): void {
    let g = 0;
    let max = 0;
    for (const b of backends) {
      if (b.weight > 0) g = g > 0 ? gcd(b.weight, g) : b.weight;
      if (b.weight > max) max = b.weight;
    }
    di = g > 0 ? g : 1;
    mw = max - (di - 1);
  }
  return {
    name: "wrr",
    setBackends(next) {
      backends = next;
      position = -1;
      recompute();
      // IPVS keeps cw across updates unless it no longer fits the new weights.
      if (cw > mw || cw === 0) cw = mw;
      else if (di > 1) cw = Math.floor(cw / di) * di + 1;
    },
    pick(_context: PickContext, exclude?: ReadonlySet<B>) {
      const n = backends.length;
      if (n === 0 || mw <= 0) return undefined;
      // At most two full rounds of cw values: after that nothing is schedulable.
      const limit = 2 * n * (Math.ceil(mw / di) + 1);
      for (let step = 0; step < limit; step++) {
        position++;
        if (position >= n) {
          position = 0;
          cw -= di;
          if (cw <= 0) cw = mw;
        }
        const b = backends[position] as B;
        if (b.weight >= cw && schedulable(b, exclude)) return b;
      }
      position = -1;
      return undefined;
    },
  };
}
