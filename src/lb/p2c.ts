import {
  schedulable,
  type Backend,
  type PickContext,
  type RandomSource,
  type Scheduler,
} from "./scheduler.ts";

/**
 * Power of two choices: two distinct schedulable backends at random, and the one with fewer
 * active connections per weight wins (the first drawn on a tie). Nearly as even as least
 * connection without scanning every backend's load, and without lc's herd on a fresh backend.
 */
export function createPowerOfTwoChoicesScheduler<B extends Backend>(
  random: RandomSource = Math.random,
): Scheduler<B> {
  let backends: readonly B[] = [];
  return {
    name: "p2c",
    setBackends(next) {
      backends = next;
    },
    pick(_context: PickContext, exclude?: ReadonlySet<B>) {
      let count = 0;
      for (const b of backends) if (schedulable(b, exclude)) count++;
      if (count === 0) return undefined;
      const first = Math.floor(random() * count);
      let second = count > 1 ? Math.floor(random() * (count - 1)) : first;
      if (count > 1 && second >= first) second++;
      let a: B | undefined;
      let b: B | undefined;
      let i = 0;
      for (const candidate of backends) {
        if (!schedulable(candidate, exclude)) continue;
        if (i === first) a = candidate;
        if (i === second) b = candidate;
        i++;
      }
      if (a === undefined || b === undefined) return a ?? b;
      return b.activeConnections * a.weight < a.activeConnections * b.weight ? b : a;
    },
  };
}
