import {
  schedulable,
  type Backend,
  type PickContext,
  type RandomSource,
  type Scheduler,
} from "./scheduler.ts";

/**
 * Random: each connection goes to a schedulable backend chosen at random with probability
 * proportional to its weight (uniform with Kubernetes' weight 1); what the iptables and nftables
 * modes do with `statistic`/`numgen`.
 */
export function createRandomScheduler<B extends Backend>(random: RandomSource = Math.random): Scheduler<B> {
  let backends: readonly B[] = [];
  return {
    name: "random",
    setBackends(next) {
      backends = next;
    },
    pick(_context: PickContext, exclude?: ReadonlySet<B>) {
      let total = 0;
      for (const b of backends) if (schedulable(b, exclude)) total += b.weight;
      if (total === 0) return undefined;
      let r = random() * total;
      let chosen: B | undefined;
      for (const b of backends) {
        if (!schedulable(b, exclude)) continue;
        chosen = b;
        r -= b.weight;
        if (r < 0) break;
      }
      return chosen;
    },
  };
}
