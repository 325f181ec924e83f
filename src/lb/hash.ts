/**
 * Hashes for the hashing schedulers. IPVS folds an address to 32 bits and multiplies by the
 * golden ratio (`hash_32`); Maglev needs two independent hashes of an endpoint key, for which
 * MurmurHash3's 32-bit mixing is used (good avalanche, no allocation).
 */

const goldenRatio32 = 0x61c88647;

/** IPVS `hash_32(value, bits)`: the top `bits` bits of `value * 0x61C88647`. */
export function hash32(value: number, bits: number): number {
  return Math.imul(value | 0, goldenRatio32) >>> (32 - bits);
}

/**
 * An address folded to 32 bits as IPVS folds it: IPv4 as its number, IPv6 as the XOR of its four
 * 32-bit words. Malformed input folds to 0 (the hash stays total).
 */
export function foldAddress(ip: string): number {
  if (!ip.includes(":")) {
    let value = 0;
    let octet = 0;
    for (let i = 0; i < ip.length; i++) {
      const c = ip.charCodeAt(i);
      if (c === 46) {
        value = ((value << 8) | octet) >>> 0;
        octet = 0;
      } else octet = octet * 10 + (c - 48);
    }
    return ((value << 8) | octet) >>> 0;
  }
  const groups = ipv6Groups(ip);
  let fold = 0;
  for (let w = 0; w < 4; w++) fold ^= (((groups[2 * w] ?? 0) << 16) | (groups[2 * w + 1] ?? 0)) >>> 0;
  return fold >>> 0;
}

function ipv6Groups(ip: string): number[] {
  const zone = ip.indexOf("%");
  const text = zone >= 0 ? ip.slice(0, zone) : ip;
  const [head = "", tail] = text.split("::");
  const parse = (s: string): number[] => {
    if (s === "") return [];
    const out: number[] = [];
    for (const part of s.split(":")) {
      if (part.includes(".")) {
        const v4 = foldAddress(part);
        out.push(v4 >>> 16, v4 & 0xffff);
      } else out.push(parseInt(part, 16) & 0xffff);
    }
    return out;
  };
  const h = parse(head);
  const t = tail === undefined ? [] : parse(tail);
  return [...h, ...new Array<number>(Math.max(0, 8 - h.length - t.length)).fill(0), ...t];
}

/** MurmurHash3 (x86, 32-bit) of a string's UTF-16 code units, with a seed. */
export function murmur3(text: string, seed: number): number {
  let h = seed >>> 0;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    let k = text.charCodeAt(i);
    k = Math.imul(k, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, 0x1b873593);
    h ^= k;
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  h ^= n;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
