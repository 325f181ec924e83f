/**
 * The default layout chooses endpoints with data maps instead of rules: a service chain draws
 * `numgen random mod 32768 offset B` and looks the number up in an interval map whose elements map
 * ranges of its block `[B, B + 32767]` to endpoints. Changing endpoints then changes only map
 * elements, never rules (adding a rule makes the kernel re-validate the whole table).
 *
 * The maps are shared by many chains, in shards: one map per chain would make loading quadratic
 * (the kernel finds sets by name in a list), and one map for all chains would too (each element
 * added is checked against every rule that uses the map, and each rule added against every
 * element). A chain's shard follows from its name; its block is allocated here.
 */

/** Numbers each chain draws from: the endpoints of a chain share this many slots. */
export const endpointSlots = 32_768;
/** Maps per protocol and IP family. */
export const endpointMapShards = 32;
/** Blocks per shard; the last one stays unused, so that every range has an end (`key + 1` fits 32 bits). */
const blocksPerShard = 2 ** 32 / endpointSlots - 1;

/** Where a chain's endpoints live: the map and the first number of its block. */
export interface EndpointBlock {
  readonly shard: number;
  readonly offset: number;
}

/** Name of the endpoint map of `protocol` (`tcp`, `udp`, `sctp`) and `shard`, e.g. `endpoints-tcp-07`. */
export function endpointMapName(protocol: string, shard: number): string {
  return `endpoints-${protocol}-${String(shard).padStart(2, "0")}`;
}

/** The shard of a chain: FNV-1a of its name, so that it never depends on other chains. */
export function endpointShardOf(chain: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < chain.length; i++) {
    h ^= chain.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h % endpointMapShards;
}

/**
 * Allocates the blocks of chains and remembers them between syncs (a partial sync renders only
 * the changed services, whose blocks must not move). Block 0 is never used, so that every rule
 * has an explicit `offset`.
 */
export class EndpointBlocks {
  readonly #byChain = new Map<string, EndpointBlock>();
  readonly #next: number[] = Array.from({ length: endpointMapShards }, () => 1);
  readonly #free: number[][] = Array.from({ length: endpointMapShards }, () => []);

  /** The block of `chain`, allocated on first use. */
  blockOf(chain: string): EndpointBlock {
    const known = this.#byChain.get(chain);
    if (known !== undefined) return known;
    const shard = endpointShardOf(chain);
    const free = this.#free[shard] ?? [];
    let block = free.pop();
    if (block === undefined) {
      block = this.#next[shard] ?? 1;
      if (block >= blocksPerShard)
        throw new RangeError(
          `Cannot allocate an endpoint block for ${chain}: all ${blocksPerShard - 1} blocks of shard ${shard} are in use`,
        );
      this.#next[shard] = block + 1;
    }
    const allocated = { shard, offset: block * endpointSlots };
    this.#byChain.set(chain, allocated);
    return allocated;
  }

  /** Frees the block of a chain that no longer exists. */
  release(chain: string): void {
    const known = this.#byChain.get(chain);
    if (known === undefined) return;
    this.#byChain.delete(chain);
    this.#free[known.shard]?.push(known.offset / endpointSlots);
  }

  /** Forgets every block (before a full sync, which renders every chain again). */
  reset(): void {
    this.#byChain.clear();
    this.#next.fill(1);
    for (const f of this.#free) f.length = 0;
  }

  /** Number of chains holding a block. */
  get size(): number {
    return this.#byChain.size;
  }
}

/**
 * The interval elements that split a block among `targets` (`ip . port` data), in order: the i-th
 * gets `[offset + ⌊i·S/n⌋, offset + ⌊(i+1)·S/n⌋ − 1]`, so each is drawn with probability 1/n
 * (within 1/32768). More targets than slots: the first 32,768 only.
 */
export function endpointRanges(offset: number, targets: readonly string[]): { key: string; data: string }[] {
  const n = Math.min(targets.length, endpointSlots);
  const out: { key: string; data: string }[] = [];
  for (let i = 0; i < n; i++) {
    const from = offset + Math.floor((i * endpointSlots) / n);
    const to = offset + Math.floor(((i + 1) * endpointSlots) / n) - 1;
    out.push({ key: `${from}-${to}`, data: targets[i] ?? "" });
  }
  return out;
}
