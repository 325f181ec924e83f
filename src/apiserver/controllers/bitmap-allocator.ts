/** Outcome of claiming a specific slot. */
export type ClaimResult = "ok" | "taken";

/**
 * A set of `size` numbered slots (IP offsets or ports) handed out next-fit from a cursor, so that
 * allocating is O(1) amortised and a released slot becomes reusable once the cursor comes round.
 * Each taken slot remembers its owner, so that an owner re-claiming its own slot succeeds.
 */
export class BitmapAllocator {
  readonly #bits: Uint8Array;
  readonly #owners = new Map<number, string>();
  readonly #first: number;
  readonly #last: number;
  #cursor: number;

  /** Slots `first..last` (inclusive) may be allocated; others are reserved. */
  constructor(first: number, last: number) {
    this.#first = first;
    this.#last = last;
    this.#cursor = first;
    this.#bits = new Uint8Array(Math.max(0, Math.ceil((last + 1) / 8)));
  }

  /** How many slots are taken. */
  get used(): number {
    return this.#owners.size;
  }

  /** True when `slot` may be allocated at all. */
  inRange(slot: number): boolean {
    return Number.isInteger(slot) && slot >= this.#first && slot <= this.#last;
  }

  /** The owner of a taken slot. */
  ownerOf(slot: number): string | undefined {
    return this.#owners.get(slot);
  }

  /** Takes the next free slot for `owner`; undefined when every slot is taken. */
  allocateNext(owner: string): number | undefined {
    const span = this.#last - this.#first + 1;
    for (let i = 0; i < span; i++) {
      const slot = this.#cursor;
      this.#cursor = slot >= this.#last ? this.#first : slot + 1;
      if (!this.#isSet(slot)) {
        this.#set(slot, owner);
        return slot;
      }
      // Skip full bytes quickly: a crowded range should not cost a bit test per slot.
      if ((slot & 7) === 0 && this.#bits[slot >> 3] === 0xff && slot + 8 <= this.#last) {
        this.#cursor = slot + 8;
        i += 7;
      }
    }
    return undefined;
  }

  /** Takes `slot` for `owner` (the caller checked `inRange`); "taken" when someone else has it. */
  claim(slot: number, owner: string): ClaimResult {
    const current = this.#owners.get(slot);
    if (current !== undefined) return current === owner ? "ok" : "taken";
    this.#set(slot, owner);
    return "ok";
  }

  /** Frees `slot` if `owner` holds it (or unconditionally when owner is undefined). */
  release(slot: number, owner?: string): void {
    const current = this.#owners.get(slot);
    if (current === undefined || (owner !== undefined && current !== owner)) return;
    this.#owners.delete(slot);
    const byte = slot >> 3;
    this.#bits[byte] = (this.#bits[byte] ?? 0) & ~(1 << (slot & 7));
  }

  #isSet(slot: number): boolean {
    return ((this.#bits[slot >> 3] ?? 0) & (1 << (slot & 7))) !== 0;
  }

  #set(slot: number, owner: string): void {
    this.#owners.set(slot, owner);
    const byte = slot >> 3;
    this.#bits[byte] = (this.#bits[byte] ?? 0) | (1 << (slot & 7));
  }
}
