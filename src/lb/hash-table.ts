import { schedulable, type Backend } from "./scheduler.ts";

/** Buckets of the sh/dh tables: IPVS's default `CONFIG_IP_VS_SH_TAB_BITS` of 8. */
export const hashTableBits = 8;
const size = 1 << hashTableBits;

/**
 * Fills the 256 buckets of an IPVS sh/dh table: backends in list order, each taking `weight`
 * consecutive buckets (`perWeight`) or one (`dh`), cycling until every bucket is assigned.
 */
export function fillHashTable<B extends Backend>(
  backends: readonly B[],
  perWeight: boolean,
): (B | undefined)[] {
  const table = new Array<B | undefined>(size).fill(undefined);
  if (backends.length === 0) return table;
  let index = 0;
  let count = 0;
  for (let bucket = 0; bucket < size; bucket++) {
    const b = backends[index] as B;
    table[bucket] = b;
    count++;
    if (!perWeight || count >= b.weight) {
      index = (index + 1) % backends.length;
      count = 0;
    }
  }
  return table;
}

/**
 * Looks a hash up; when the bucket's backend cannot take the connection, tries the following
 * buckets in order (IPVS's `sh-fallback` behaviour) so that an ejected or failed backend moves
 * only its own clients.
 */
export function lookupWithFallback<B extends Backend>(
  table: readonly (B | undefined)[],
  hash: number,
  exclude: ReadonlySet<B> | undefined,
): B | undefined {
  for (let offset = 0; offset < size; offset++) {
    const b = table[(hash + offset) & (size - 1)];
    if (b !== undefined && schedulable(b, exclude)) return b;
  }
  return undefined;
}
