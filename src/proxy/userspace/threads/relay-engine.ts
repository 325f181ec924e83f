import type { Clock } from "../../../sys/clock.ts";
import type { Frontend } from "../frontends.ts";
import type { RelayTuning } from "../relay-tuning.ts";
import type { ServiceBalancer } from "../service-balancer.ts";

/** What a relay thread's engine needs besides its sockets. */
export interface EngineContext {
  readonly tuning: RelayTuning;
  dropped(servicePortKey: string, reason: "no_endpoints" | "source_range" | "dial_failed"): void;
  /** True for a client that counts as internal even on an external address (pods, the node). */
  internalSource(ip: string): boolean;
  /** Logs a problem of the engine itself (not of one connection). */
  warn(message: string, fields: Record<string, unknown>): void;
  /** Hears an exception thrown while handling I/O; the engine carries on. */
  onError(err: unknown): void;
}

/**
 * The TCP relays of one relay thread, on io_uring (`uring-engine.ts`) or epoll
 * (`epoll-engine.ts`): the same behaviour, two ways of talking to the kernel.
 */
export interface RelayEngine {
  readonly kind: "io_uring" | "epoll";
  /** The clock of the balancers on this thread (their timers run in the engine's loop). */
  readonly clock: Clock;
  /** Opens the listener of `frontend`; returns its port. Throws KPROXY_LISTEN_FAILED. */
  listen(frontend: Frontend, balancer: ServiceBalancer): number;
  /** Stops accepting on `id`; its connections go on until they end (drain). */
  unlisten(id: string): void;
  /** Closes every listener and connection (the thread is stopping). */
  closeAll(): void;
  /** Runs until `stop()`; `onWake` runs each time the eventfd `wakeFd` was written. */
  run(wakeFd: number, onWake: () => void): void;
  stop(): void;
}
