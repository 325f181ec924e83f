import type { ProxyMode } from "../../config/proxy-config.ts";
import type { Proxier, ProxierFactory, SyncRequest } from "../proxier.ts";

/**
 * A proxier that programs nothing and records every SyncRequest, for tests of the runtime (sync
 * loop, `runProxy`): what would have been programmed, and when. `failNext` makes syncs throw.
 */
export class RecordingProxier implements Proxier {
  readonly mode: ProxyMode;
  readonly requests: SyncRequest[] = [];
  #failures = 0;
  #waiters: Array<{ test: (r: SyncRequest) => boolean; resolve: (r: SyncRequest) => void }> = [];
  cleanups = 0;
  closed = false;

  constructor(mode: ProxyMode = "iptables") {
    this.mode = mode;
  }

  /** Makes the next `count` syncs fail, as a failed kernel write would. */
  failNext(count: number): void {
    this.#failures = count;
  }

  sync(request: SyncRequest): Promise<void> {
    this.requests.push(request);
    if (this.#failures > 0) {
      this.#failures--;
      return Promise.reject(new Error("recording proxier: simulated apply failure"));
    }
    this.#waiters = this.#waiters.filter((w) => {
      if (!w.test(request)) return true;
      w.resolve(request);
      return false;
    });
    return Promise.resolve();
  }

  /** Resolves with the first successful sync (already seen or to come) that satisfies `test`. */
  waitFor(test: (r: SyncRequest) => boolean): Promise<SyncRequest> {
    const seen = this.requests.find(test);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve) => this.#waiters.push({ test, resolve }));
  }

  cleanup(): Promise<void> {
    this.cleanups++;
    return Promise.resolve();
  }

  close(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }

  /** A factory handing out this proxier. */
  factory(): ProxierFactory {
    return () => Promise.resolve(this);
  }
}
