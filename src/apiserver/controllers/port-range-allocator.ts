import { UsageError } from "../../errors.ts";
import { BitmapAllocator, type ClaimResult } from "./bitmap-allocator.ts";

/** Allocates ports from a range such as `30000-32767` (NodePorts, health-check NodePorts). */
export class PortRangeAllocator {
  readonly min: number;
  readonly max: number;
  readonly #slots: BitmapAllocator;

  constructor(range: string) {
    const m = /^\s*(\d+)\s*-\s*(\d+)\s*$/.exec(range) ?? /^\s*(\d+)\s*$/.exec(range);
    const min = Number(m?.[1]);
    const max = Number(m?.[2] ?? m?.[1]);
    if (m === null || !(min >= 1 && max <= 65535 && min <= max)) {
      throw new UsageError(
        `Cannot use port range ${JSON.stringify(range)}: expected FIRST-LAST within 1-65535, e.g. 30000-32767`,
      );
    }
    this.min = min;
    this.max = max;
    this.#slots = new BitmapAllocator(min, max);
  }

  /** The range as flags and messages write it. */
  get text(): string {
    return `${this.min}-${this.max}`;
  }

  /** How many ports are taken. */
  get used(): number {
    return this.#slots.used;
  }

  /** Takes the next free port for `owner`; undefined when the range is full. */
  allocateNext(owner: string): number | undefined {
    return this.#slots.allocateNext(owner);
  }

  /** Takes `port` for `owner`; "out-of-range" when outside the range. */
  claim(port: number, owner: string): ClaimResult | "out-of-range" {
    if (!this.#slots.inRange(port)) return "out-of-range";
    return this.#slots.claim(port, owner);
  }

  /** Frees `port` if `owner` holds it. */
  release(port: number, owner?: string): void {
    if (this.#slots.inRange(port)) this.#slots.release(port, owner);
  }

  /** The owner of an allocated port. */
  ownerOf(port: number): string | undefined {
    return this.#slots.ownerOf(port);
  }
}
