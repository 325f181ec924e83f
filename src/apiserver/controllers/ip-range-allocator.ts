import { UsageError } from "../../errors.ts";
import { bigIntToIP, canonicalIP, ipFamilyOf, ipToBigInt, parseCIDR } from "../../model/ip.ts";
import type { IPFamily } from "../../model/protocol.ts";
import { BitmapAllocator, type ClaimResult } from "./bitmap-allocator.ts";

/** Ranges larger than 2^24 addresses (an IPv6 /64) are served from their first 2^24 addresses: plenty, and a 2 MB bitmap. */
const maxSlots = 1 << 24;

/**
 * Allocates IP addresses from one CIDR (a Service ClusterIP range or a LoadBalancer pool).
 * As kube-apiserver does, the network address is never handed out, nor the IPv4 broadcast
 * address, except in /31, /32 (and IPv6 /127, /128) ranges, which have none to spare.
 */
export class IpRangeAllocator {
  readonly cidr: string;
  readonly family: IPFamily;
  readonly #base: bigint;
  readonly #size: number;
  readonly #slots: BitmapAllocator;

  constructor(cidr: string) {
    const parsed = parseCIDR(cidr.trim());
    if (parsed === undefined) {
      throw new UsageError(
        `Cannot use IP range ${JSON.stringify(cidr)}: not a CIDR; expected e.g. 10.96.0.0/12`,
      );
    }
    this.cidr = cidr.trim();
    this.family = parsed.family;
    this.#base = parsed.bits;
    const width = parsed.family === "IPv4" ? 32 : 128;
    const hostBits = width - parsed.prefix;
    this.#size = hostBits > 24 ? maxSlots : 2 ** hostBits;
    const reserveEnds = hostBits >= 2;
    const first = reserveEnds ? 1 : 0;
    // The IPv4 broadcast address is the last one of the whole CIDR, which a capped range never reaches.
    const last = reserveEnds && parsed.family === "IPv4" && hostBits <= 24 ? this.#size - 2 : this.#size - 1;
    this.#slots = new BitmapAllocator(first, last);
  }

  /** How many addresses are taken. */
  get used(): number {
    return this.#slots.used;
  }

  /** True when `ip` may be allocated from this range. */
  contains(ip: string): boolean {
    const slot = this.#slotOf(ip);
    return slot !== undefined && this.#slots.inRange(slot);
  }

  /** Takes the next free address for `owner`; undefined when the range is full. */
  allocateNext(owner: string): string | undefined {
    const slot = this.#slots.allocateNext(owner);
    return slot === undefined ? undefined : bigIntToIP(this.#base + BigInt(slot), this.family);
  }

  /** Takes `ip` for `owner`; "out-of-range" when the range cannot hand it out. */
  claim(ip: string, owner: string): ClaimResult | "out-of-range" {
    const slot = this.#slotOf(ip);
    if (slot === undefined || !this.#slots.inRange(slot)) return "out-of-range";
    return this.#slots.claim(slot, owner);
  }

  /** Frees `ip` if `owner` holds it. */
  release(ip: string, owner?: string): void {
    const slot = this.#slotOf(ip);
    if (slot !== undefined) this.#slots.release(slot, owner);
  }

  /** The owner of an allocated address. */
  ownerOf(ip: string): string | undefined {
    const slot = this.#slotOf(ip);
    return slot === undefined ? undefined : this.#slots.ownerOf(slot);
  }

  #slotOf(ip: string): number | undefined {
    const canonical = canonicalIP(ip.trim());
    if (canonical === undefined || ipFamilyOf(canonical) !== this.family) return undefined;
    const offset = ipToBigInt(canonical) - this.#base;
    if (offset < 0n || offset >= BigInt(this.#size)) return undefined;
    return Number(offset);
  }
}
