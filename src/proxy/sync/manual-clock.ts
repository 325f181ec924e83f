import type { Clock } from "../../sys/clock.ts";

/**
 * A Clock that only moves when told to, for tests of timers (sync runner, health timeouts).
 * `advance` fires due timers in time order and lets the promise jobs they start settle between
 * firings, so that async callbacks behave as they would with real time.
 */
export class ManualClock implements Clock {
  #now: number;
  #seq = 0;
  readonly #timers = new Map<number, { due: number; fn: () => void }>();

  constructor(start = 1_700_000_000_000) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  setTimeout(fn: () => void, ms: number): { cancel(): void } {
    const id = this.#seq++;
    this.#timers.set(id, { due: this.#now + Math.max(0, ms), fn });
    return { cancel: () => this.#timers.delete(id) };
  }

  /** Number of timers not yet fired or cancelled. */
  get pendingTimers(): number {
    return this.#timers.size;
  }

  /** Moves time forward by `ms`, firing every timer that falls due on the way. */
  async advance(ms: number): Promise<void> {
    const end = this.#now + ms;
    for (;;) {
      await settle();
      let next: [number, { due: number; fn: () => void }] | undefined;
      for (const entry of this.#timers) {
        if (entry[1].due <= end && (next === undefined || entry[1].due < next[1].due)) next = entry;
      }
      if (next === undefined) break;
      this.#timers.delete(next[0]);
      this.#now = Math.max(this.#now, next[1].due);
      next[1].fn();
    }
    this.#now = end;
    await settle();
  }
}

/** Lets pending promise jobs (and jobs they queue) run. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}
