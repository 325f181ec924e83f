import { errorMessage } from "../../errors.ts";
import type { Clock } from "../../sys/clock.ts";
import type { Logger } from "../../sys/logger.ts";

/** Options of a BoundedFrequencyRunner. */
export interface BoundedFrequencyRunnerOptions {
  readonly clock: Clock;
  readonly logger: Logger;
  /** Least time between the starts of two syncs (`minSyncPeriod`; 0 = sync at once). */
  readonly minIntervalMs: number;
  /** Most time between two syncs: a full sync runs this often even without changes (`syncPeriod`). */
  readonly maxIntervalMs: number;
  /** First retry delay after a failure (doubles on each further failure, up to maxIntervalMs). */
  readonly retryBaseMs?: number;
  /** One sync. `full` is true for the first sync, periodic syncs and every sync after a failure. Throw to fail. */
  readonly run: (full: boolean) => Promise<void>;
}

/**
 * Runs syncs no more often than every `minIntervalMs` and at least every `maxIntervalMs`, never two at
 * once, retrying failed syncs with exponential back-off (upstream: `async.BoundedFrequencyRunner`).
 * Requests that arrive while a sync runs coalesce into one sync after it.
 */
export class BoundedFrequencyRunner {
  readonly #o: BoundedFrequencyRunnerOptions;
  #started = false;
  #stopped = false;
  #pending = false;
  #full = true;
  #lastStart = Number.NEGATIVE_INFINITY;
  #periodicDue = Number.POSITIVE_INFINITY;
  #retryAt = 0;
  #retryDelay: number;
  #running: Promise<void> | undefined;
  #timer: { cancel(): void; due: number } | undefined;
  #syncs = 0;
  #failures = 0;

  constructor(options: BoundedFrequencyRunnerOptions) {
    this.#o = options;
    this.#retryDelay = this.#retryBase();
  }

  /** Starts the loop with an immediate full sync. */
  start(): void {
    if (this.#started) return;
    this.#started = true;
    this.#pending = true;
    this.#schedule();
  }

  /** Asks for a sync as soon as `minIntervalMs` allows. */
  requestSync(): void {
    this.#pending = true;
    this.#schedule();
  }

  /** Asks for a full sync (e.g. the node's addresses or labels changed). */
  requestFullSync(): void {
    this.#full = true;
    this.requestSync();
  }

  /** Syncs run so far (successful or not), and how many failed. */
  get counts(): { syncs: number; failures: number } {
    return { syncs: this.#syncs, failures: this.#failures };
  }

  /** Stops the loop; resolves once a sync in flight has finished. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#timer?.cancel();
    this.#timer = undefined;
    await this.#running;
  }

  #retryBase(): number {
    return Math.max(1, this.#o.retryBaseMs ?? Math.max(this.#o.minIntervalMs, 1000));
  }

  #schedule(): void {
    if (!this.#started || this.#stopped || this.#running !== undefined) return;
    let due = this.#periodicDue;
    if (this.#pending) due = Math.min(due, Math.max(this.#lastStart + this.#o.minIntervalMs, this.#retryAt));
    if (!Number.isFinite(due)) return;
    if (this.#timer !== undefined) {
      if (this.#timer.due <= due) return;
      this.#timer.cancel();
    }
    const now = this.#o.clock.now();
    const handle = this.#o.clock.setTimeout(() => this.#fire(), Math.max(0, due - now));
    this.#timer = { cancel: () => handle.cancel(), due };
  }

  #fire(): void {
    this.#timer = undefined;
    if (this.#stopped || this.#running !== undefined) return;
    const now = this.#o.clock.now();
    const full = this.#full || now >= this.#periodicDue;
    this.#pending = false;
    this.#full = false;
    this.#lastStart = now;
    this.#syncs++;
    this.#running = this.#runOnce(full, now).finally(() => {
      this.#running = undefined;
      this.#schedule();
    });
  }

  async #runOnce(full: boolean, start: number): Promise<void> {
    try {
      await this.#o.run(full);
      this.#retryAt = 0;
      this.#retryDelay = this.#retryBase();
    } catch (err) {
      this.#failures++;
      // The previous rules are still in place; the next attempt rewrites everything.
      this.#full = true;
      this.#pending = true;
      this.#retryAt = this.#o.clock.now() + this.#retryDelay;
      this.#o.logger.error(
        { err: errorMessage(err), retryInMs: this.#retryDelay, full },
        "sync failed; previous rules stay in place, retrying with a full sync",
      );
      this.#retryDelay = Math.min(this.#retryDelay * 2, Math.max(this.#o.maxIntervalMs, this.#retryBase()));
    }
    this.#periodicDue = start + this.#o.maxIntervalMs;
  }
}
