/**
 * One timer per key, each firing at a wall-clock deadline (a Pod's end of grace period): setting
 * a key again replaces its timer. Timers do not keep the process alive.
 */
export class DeadlineTimers {
  readonly #timers = new Map<string, NodeJS.Timeout>();
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  set(key: string, atMs: number, fire: () => void): void {
    this.cancel(key);
    const delay = Math.max(0, Math.min(atMs - this.#now(), 2 ** 31 - 1));
    const timer = setTimeout(() => {
      this.#timers.delete(key);
      fire();
    }, delay);
    timer.unref();
    this.#timers.set(key, timer);
  }

  cancel(key: string): void {
    clearTimeout(this.#timers.get(key));
    this.#timers.delete(key);
  }

  clear(): void {
    for (const t of this.#timers.values()) clearTimeout(t);
    this.#timers.clear();
  }
}
