import { performance } from "node:perf_hooks";
import type { Clock } from "../../../sys/clock.ts";
import { epollDataOffset, epollEventSize, type Libc } from "./libc.ts";
import { TimerList } from "./timer-list.ts";

/** Something registered with the loop: told about each readiness event of its fd. */
export interface Watcher {
  /** The fd's registration number; an event carrying another one is stale and dropped. */
  token: number;
  onEvent(events: number): void;
}

const maxEvents = 256;
/** Empty non-blocking looks after a busy turn before the loop sleeps (see `run`). */
const pollsBeforeSleep = Number(process.env["KPROXY_POLLS"] ?? "1");
/** Longest sleep: the loop also looks at its timers this often (a cheap safety net). */
const maxSleepMs = 1000;

/**
 * A single-threaded epoll loop driven from JavaScript: one `epoll_wait` returns up to 256 ready
 * fds, each dispatched to its watcher. It owns the thread it runs on (a worker thread): while it
 * waits, that thread's own Node event loop does not run, so it brings its own timers, and other
 * threads wake it through an eventfd.
 *
 * Each registration stores the fd and a fresh token in the event's 64-bit data, so that an event
 * queued for an fd that was closed and reused within the same batch never reaches the new owner.
 */
export class EventLoop {
  readonly #libc: Libc;
  readonly #epfd: number;
  readonly #events = new Uint8Array(maxEvents * epollEventSize);
  readonly #words = new Uint32Array(this.#events.buffer);
  readonly #watchers: (Watcher | undefined)[] = [];
  #nextToken = 1;
  /** Few (ejection intervals); connect timeouts use `deadlineQueue`. */
  readonly #timers = new TimerList();
  readonly #queues: DeadlineQueue[] = [];
  /** Work to continue on the next turn without waiting (fairness caps were hit). */
  #soon: (() => void)[] = [];
  #stopped = false;
  /** Runs after each turn's events were dispatched (the engine writes what it held back). */
  turnEnd: (() => void) | undefined = undefined;
  /** performance.now() at the start of the current turn. */
  now = performance.now();

  readonly #onError: (err: unknown) => void;

  /** `onError` hears of an exception thrown by a watcher or timer; the loop carries on. */
  constructor(libc: Libc, onError: (err: unknown) => void) {
    this.#libc = libc;
    this.#onError = onError;
    this.#epfd = libc.epollCreate();
    if (this.#epfd < 0) throw new Error(`epoll_create1 failed: errno ${libc.errno()}`);
  }

  /** Registers `fd` (edge-triggered `events`) for `watcher`; false when epoll refused it. */
  add(fd: number, events: number, watcher: Watcher): boolean {
    const token = this.#nextToken;
    this.#nextToken = (this.#nextToken + 1) >>> 0 || 1;
    watcher.token = token;
    this.#watchers[fd] = watcher;
    if (this.#libc.epollAdd(this.#epfd, fd, events, token) === 0) return true;
    this.#watchers[fd] = undefined;
    return false;
  }

  /** Forgets `fd`; call before closing it (closing removes it from epoll). */
  remove(fd: number): void {
    this.#watchers[fd] = undefined;
  }

  /** A clock whose timers this loop runs (for the balancers living on this thread). */
  clock(): Clock {
    return this.#timers.clock();
  }

  /** A queue of deadlines that all lie the same interval ahead (so they arrive in order). */
  deadlineQueue<T>(onExpired: (item: T, tag: number) => void): DeadlineQueue<T> {
    const queue = new DeadlineQueue<T>(onExpired);
    this.#queues.push(queue as DeadlineQueue);
    return queue;
  }

  /** Runs `fn` on the next turn, before sleeping again. */
  soon(fn: () => void): void {
    this.#soon.push(fn);
  }

  stop(): void {
    this.#stopped = true;
  }

  /** Waits for and dispatches events until `stop()`. */
  run(): void {
    const libc = this.#libc;
    const words = this.#words;
    const stride = epollEventSize / 4;
    const dataAt = epollDataOffset / 4;
    let busy = 0;
    while (!this.#stopped) {
      // After a turn with work, look once more without sleeping: more events have usually
      // arrived meanwhile, and a sleep and wake-up costs far more than an empty look.
      const n = libc.epollWait(this.#epfd, this.#events, maxEvents, busy > 0 ? 0 : this.#sleepMs());
      busy = n > 0 ? pollsBeforeSleep : busy - 1;
      this.now = performance.now();
      for (let i = 0; i < n; i++) {
        const base = i * stride;
        const watcher = this.#watchers[words[base + dataAt] as number];
        if (watcher === undefined || watcher.token !== words[base + dataAt + 1]) continue;
        try {
          watcher.onEvent(words[base] as number);
        } catch (err) {
          this.#onError(err);
        }
      }
      if (this.turnEnd !== undefined) this.#call(this.turnEnd);
      if (this.#soon.length > 0) {
        const soon = this.#soon;
        this.#soon = [];
        for (const fn of soon) this.#call(fn);
      }
      this.#runTimers();
    }
  }

  #sleepMs(): number {
    if (this.#soon.length > 0) return 0;
    const now = performance.now();
    let next = now + this.#timers.sleepMs(maxSleepMs);
    for (const q of this.#queues) {
      const at = q.nextDeadline();
      if (at < next) next = at;
    }
    return Math.max(0, Math.ceil(next - now));
  }

  #call(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.#onError(err);
    }
  }

  #runTimers(): void {
    const now = this.now;
    for (const q of this.#queues) q.expire(now, this.#onError);
    this.#timers.runDue(now, this.#onError);
  }
}

/**
 * Deadlines added in non-decreasing order (one fixed interval from "now"), kept in plain arrays:
 * adding and expiring cost O(1) and allocate nothing per entry. Cancelling is lazy: the owner
 * recognises a stale entry by its tag.
 */
export class DeadlineQueue<T = unknown> {
  #items: (T | undefined)[] = [];
  #tags: number[] = [];
  #deadlines: number[] = [];
  #head = 0;
  readonly #onExpired: (item: T, tag: number) => void;

  constructor(onExpired: (item: T, tag: number) => void) {
    this.#onExpired = onExpired;
  }

  add(item: T, tag: number, deadline: number): void {
    this.#items.push(item);
    this.#tags.push(tag);
    this.#deadlines.push(deadline);
  }

  nextDeadline(): number {
    return this.#head < this.#deadlines.length ? (this.#deadlines[this.#head] as number) : Infinity;
  }

  /** Hands every entry due by `now` to the owner; `onError` hears what the owner throws. */
  expire(now: number, onError: (err: unknown) => void): void {
    while (this.#head < this.#deadlines.length && (this.#deadlines[this.#head] as number) <= now) {
      const item = this.#items[this.#head] as T;
      const tag = this.#tags[this.#head] as number;
      this.#items[this.#head] = undefined;
      this.#head++;
      try {
        this.#onExpired(item, tag);
      } catch (err) {
        onError(err);
      }
    }
    // Drop the consumed prefix now and then, so the arrays do not grow without bound.
    if (this.#head > 1024 && this.#head * 2 > this.#deadlines.length) {
      this.#items = this.#items.slice(this.#head);
      this.#tags = this.#tags.slice(this.#head);
      this.#deadlines = this.#deadlines.slice(this.#head);
      this.#head = 0;
    }
  }
}
