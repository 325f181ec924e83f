import type { Registry } from "prom-client";
import type { ProxyConfig, ProxyMode } from "../config/proxy-config.ts";
import type { ProxyState } from "../model/proxy-state.ts";
import type { Clock } from "../sys/clock.ts";
import type { Executor } from "../sys/executor.ts";
import type { Logger } from "../sys/logger.ts";

/** One sync request from the sync runner to a proxier. */
export interface SyncRequest {
  /** The whole desired state (all services and endpoints), one per IP family the node uses. */
  readonly states: readonly ProxyState[];
  /**
   * True: rewrite everything kproxy owns (first sync, every `syncPeriod`, after any failure).
   * False: a partial sync; only `changedServices` need rewriting.
   */
  readonly full: boolean;
  /** `namespace/name` of every Service whose Service object or EndpointSlices changed since the last successful sync. */
  readonly changedServices: ReadonlySet<string>;
}

/**
 * A proxy mode. The sync runner calls `sync` (never concurrently); a thrown error means the kernel
 * or sockets still hold the previous state, and the runner retries with back-off and a full sync.
 */
export interface Proxier {
  readonly mode: ProxyMode;
  sync(request: SyncRequest): Promise<void>;
  /** Removes everything this mode installed (`kproxy cleanup`). Safe to call when nothing is installed. */
  cleanup(): Promise<void>;
  /** Stops background work (listeners stay or close as the mode documents); rules stay in place. */
  close(): Promise<void>;
}

/** What every proxier is built from: the side-effect ports and the configuration. */
export interface ProxierDeps {
  readonly config: ProxyConfig;
  readonly executor: Executor;
  readonly logger: Logger;
  /** Registry every metric is registered in (served on /metrics). */
  readonly metrics: Registry;
  readonly clock: Clock;
}

/** Builds a proxier for one mode. */
export type ProxierFactory = (deps: ProxierDeps) => Promise<Proxier>;
