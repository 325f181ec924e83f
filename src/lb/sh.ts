import { fillHashTable, hashTableBits, lookupWithFallback } from "./hash-table.ts";
import { foldAddress, hash32 } from "./hash.ts";
import type { Backend, PickContext, Scheduler } from "./scheduler.ts";

/**
 * Source hashing (IPVS `sh`): the client address (not its port, as IPVS without `sh-port`) hashed
 * into a 256-bucket table where each backend holds `weight` consecutive buckets. A client keeps
 * its backend while the set is unchanged. Unlike plain IPVS, an unavailable bucket falls back to
 * the next one (`sh-fallback`), so an ejected backend does not fail its clients.
 */
export function createSourceHashScheduler<B extends Backend>(): Scheduler<B> {
  let table: (B | undefined)[] = [];
  return {
    name: "sh",
    setBackends(next) {
      table = fillHashTable(next, true);
    },
    pick(context: PickContext, exclude?: ReadonlySet<B>) {
      return lookupWithFallback(table, hash32(foldAddress(context.clientIP), hashTableBits), exclude);
    },
  };
}
