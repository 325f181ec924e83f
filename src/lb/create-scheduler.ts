import { createDestinationHashScheduler } from "./dh.ts";
import { createLeastConnectionScheduler } from "./lc.ts";
import { createMaglevScheduler } from "./mh.ts";
import { createNeverQueueScheduler } from "./nq.ts";
import { createPowerOfTwoChoicesScheduler } from "./p2c.ts";
import { createRandomScheduler } from "./random.ts";
import { createRoundRobinScheduler } from "./rr.ts";
import type { Backend, RandomSource, Scheduler, SchedulerName } from "./scheduler.ts";
import { createShortestExpectedDelayScheduler } from "./sed.ts";
import { createSourceHashScheduler } from "./sh.ts";
import { createWeightedLeastConnectionScheduler } from "./wlc.ts";
import { createWeightedRoundRobinScheduler } from "./wrr.ts";

/** Creates the scheduler `name`; `random` feeds `random` and `p2c` (tests pass a seeded one). */
export function createScheduler<B extends Backend>(
  name: SchedulerName,
  options: { readonly random?: RandomSource } = {},
): Scheduler<B> {
  const random = options.random ?? Math.random;
  switch (name) {
    case "rr":
      return createRoundRobinScheduler<B>();
    case "wrr":
      return createWeightedRoundRobinScheduler<B>();
    case "lc":
      return createLeastConnectionScheduler<B>();
    case "wlc":
      return createWeightedLeastConnectionScheduler<B>();
    case "sed":
      return createShortestExpectedDelayScheduler<B>();
    case "nq":
      return createNeverQueueScheduler<B>();
    case "sh":
      return createSourceHashScheduler<B>();
    case "dh":
      return createDestinationHashScheduler<B>();
    case "mh":
      return createMaglevScheduler<B>();
    case "random":
      return createRandomScheduler<B>(random);
    case "p2c":
      return createPowerOfTwoChoicesScheduler<B>(random);
  }
}
