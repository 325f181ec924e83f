import { fillHashTable, hashTableBits, lookupWithFallback } from "./hash-table.ts";
import { foldAddress, hash32 } from "./hash.ts";
import type { Backend, PickContext, Scheduler } from "./scheduler.ts";

/**
 * Destination hashing (IPVS `dh`): the address the client connected to (ClusterIP, external IP,
 * node address) hashed into a 256-bucket table with one bucket per backend in turn. Every
 * connection to the same service address goes to the same backend, which is what `dh` is for
 * (cache affinity per destination). IPVS fails the connection when that backend is unavailable;
 * kproxy falls back to the next bucket instead, so that a dead backend costs no client.
 */
export function createDestinationHashScheduler<B extends Backend>(): Scheduler<B> {
  let table: (B | undefined)[] = [];
  return {
    name: "dh",
    setBackends(next) {
      table = fillHashTable(next, false);
    },
    pick(context: PickContext, exclude?: ReadonlySet<B>) {
      return lookupWithFallback(table, hash32(foldAddress(context.destinationIP), hashTableBits), exclude);
    },
  };
}
