import { performance } from "node:perf_hooks";
import type { Clock } from "../../../sys/clock.ts";

interface Timer {
  readonly at: number;
  readonly fn: () => void;
  cancelled: boolean;
}

/**
 * Timers of a relay thread's loop, ordered by deadline. A relay thread's own Node event loop never
 * runs while it waits for I/O, so its loop runs these itself. They are few (ejection intervals,
 * retries after resource exhaustion), so a sorted array does.
 */
export class TimerList {
  #timers: Timer[] = [];

  /** A clock whose `setTimeout` adds to this list (for the balancers living on the thread). */
  clock(): Clock {
    return {
      now: () => Date.now(),
      setTimeout: (fn, ms) => this.add(fn, ms),
    };
  }

  add(fn: () => void, ms: number): { cancel(): void } {
    const timer: Timer = { at: performance.now() + ms, fn, cancelled: false };
    let i = this.#timers.length;
    while (i > 0 && (this.#timers[i - 1]?.at ?? 0) > timer.at) i--;
    this.#timers.splice(i, 0, timer);
    return { cancel: () => void (timer.cancelled = true) };
  }

  /** Milliseconds until the first timer is due (at most `limit`); `limit` when there is none. */
  sleepMs(limit: number): number {
    const first = this.#timers[0];
    if (first === undefined) return limit;
    return Math.min(limit, Math.max(0, Math.ceil(first.at - performance.now())));
  }

  /** Runs every timer due by `now`; `onError` hears what one throws. */
  runDue(now: number, onError: (err: unknown) => void): void {
    while (this.#timers.length > 0 && (this.#timers[0]?.at ?? Infinity) <= now) {
      const timer = this.#timers.shift();
      if (timer === undefined || timer.cancelled) continue;
      try {
        timer.fn();
      } catch (err) {
        onError(err);
      }
    }
  }
}
