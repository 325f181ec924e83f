import { murmur3 } from "./hash.ts";
import { schedulable, type Backend, type PickContext, type Scheduler } from "./scheduler.ts";

/** Prime lookup-table sizes (Maglev needs a prime so that every skip visits every slot). */
export const maglevTableSizes = [251, 509, 1021, 2039, 4093, 8191, 16381, 32749, 65537] as const;

// Seeds of the endpoint-key hashes (offset, skip) and of the client hash; any fixed values work,
// but they must never change: they decide which client goes where.
const offsetSeed = 0x9e3779b9;
const skipSeed = 0x85ebca6b;
const clientSeed = 0xc2b2ae35;

/** IPVS's default table size (`CONFIG_IP_VS_MH_TAB_INDEX` 12); the smallest kproxy uses. */
export const defaultMaglevTableSize = 4093;

/**
 * The table size for a backend count: the smallest listed prime with at least 100 slots per
 * backend (Maglev's M >> N, for even shares), and never below IPVS's 4093.
 */
export function maglevTableSize(backendCount: number): number {
  for (const size of maglevTableSizes)
    if (size >= defaultMaglevTableSize && size >= 100 * backendCount) return size;
  return maglevTableSizes[maglevTableSizes.length - 1] as number;
}

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

/**
 * Fills a Maglev lookup table (Eisenbud et al., NSDI '16, section 3.4): each backend walks its
 * own permutation of the slots (offset and skip from two hashes of its key) and takes the next
 * free one, in turns (a backend of weight w takes w / gcd turns per round). Entries are indices
 * into `backends`; -1 only when no backend has a weight.
 */
export function populateMaglevTable(backends: readonly Backend[], size: number): Int32Array {
  const table = new Int32Array(size).fill(-1);
  let g = 0;
  for (const b of backends) if (b.weight > 0) g = g > 0 ? gcd(b.weight, g) : b.weight;
  if (g === 0) return table;
  const turns = backends.map((b) => (b.weight > 0 ? b.weight / g : 0));
  const position = backends.map((b) => murmur3(b.key, offsetSeed) % size);
  const skip = backends.map((b) => (murmur3(b.key, skipSeed) % (size - 1)) + 1);
  let filled = 0;
  while (true) {
    for (let i = 0; i < backends.length; i++) {
      for (let t = 0; t < (turns[i] as number); t++) {
        let c = position[i] as number;
        while ((table[c] as number) >= 0) c = (c + (skip[i] as number)) % size;
        table[c] = i;
        position[i] = (c + (skip[i] as number)) % size;
        if (++filled === size) return table;
      }
    }
  }
}

/**
 * Maglev hashing (IPVS `mh`): the client address hashed into a prime-sized lookup table. When a
 * backend is added or removed only about 1/N of the clients move. The table size is chosen for
 * the first backend set (at least 100 slots per backend, at least 4093) and grows only when a set
 * leaves fewer than 10 slots per backend, because a new size reshuffles every client. An unavailable or excluded backend falls back to the
 * next slots (IPVS `mh-fallback`), so an ejected backend moves only its own clients.
 */
export function createMaglevScheduler<B extends Backend>(): Scheduler<B> {
  let backends: readonly B[] = [];
  let size = 0;
  let table: Int32Array = new Int32Array(0);
  return {
    name: "mh",
    setBackends(next) {
      backends = next;
      if (size === 0 || next.length * 10 > size) size = Math.max(size, maglevTableSize(next.length));
      table = populateMaglevTable(next, size);
    },
    pick(context: PickContext, exclude?: ReadonlySet<B>) {
      if (backends.length === 0) return undefined;
      const start = murmur3(context.clientIP, clientSeed) % size;
      for (let offset = 0; offset < size; offset++) {
        const index = table[(start + offset) % size] as number;
        const b = backends[index];
        if (b !== undefined && schedulable(b, exclude)) return b;
      }
      return undefined;
    },
  };
}
