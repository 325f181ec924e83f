/**
 * The load-balancing schedulers of the userspace relays: the Linux IPVS schedulers of the same
 * names (`ip_vs_<name>.c`), re-implemented over a plain list of backends, plus `random` and `p2c`.
 *
 * Schedulers are pure state machines: no sockets, no timers. The relay owns the backends and
 * updates their connection counters; a scheduler only reads them. Kubernetes endpoints carry no
 * weight, so every endpoint has weight 1 (a weight annotation could set others later); the
 * weighted schedulers then behave like their unweighted twins, exactly as IPVS does with equal
 * weights.
 */

/** One backend a scheduler may choose (an endpoint of a service port). */
export interface Backend {
  /** Identity (`ip:port`); stable across endpoint-set updates. */
  readonly key: string;
  /** IPVS weight: 0 takes the backend out of scheduling (quiesced), as IPVS does. */
  readonly weight: number;
  /** False while the backend must not receive new connections (ejected: IPVS's OVERLOAD flag). */
  readonly available: boolean;
  /** Connections currently open (IPVS `activeconns`). */
  readonly activeConnections: number;
  /** Connections half-closed or idle (IPVS `inactconns`); counted 1/256 of an active one by lc/wlc. */
  readonly inactiveConnections: number;
}

/** What a scheduler may look at to choose: the client and the address it connected to. */
export interface PickContext {
  readonly clientIP: string;
  readonly clientPort: number;
  /** The service address the client connected to (used by `dh`). */
  readonly destinationIP: string;
}

/** A load-balancing algorithm over one service port's backends. */
export interface Scheduler<B extends Backend = Backend> {
  readonly name: SchedulerName;
  /**
   * Replaces the backend set (endpoint changes). Order matters for the deterministic schedulers;
   * callers pass endpoints in a stable order. State (round-robin position, hash tables) is kept
   * where IPVS keeps it.
   */
  setBackends(backends: readonly B[]): void;
  /**
   * Chooses a backend for a new connection or flow; undefined when none is available. Backends in
   * `exclude` (already tried for this connection) and unavailable ones are skipped.
   */
  pick(context: PickContext, exclude?: ReadonlySet<B>): B | undefined;
}

/** The scheduler names kproxy accepts (`--userspace-scheduler`, annotation `kproxy.io/scheduler`). */
export const schedulerNames = [
  "rr",
  "wrr",
  "lc",
  "wlc",
  "sed",
  "nq",
  "sh",
  "dh",
  "mh",
  "random",
  "p2c",
] as const;

export type SchedulerName = (typeof schedulerNames)[number];

/** True when `name` is a scheduler kproxy implements. */
export function isSchedulerName(name: string): name is SchedulerName {
  return (schedulerNames as readonly string[]).includes(name);
}

/** True when `b` may receive a new connection: weighted, available and not excluded. */
export function schedulable<B extends Backend>(b: B, exclude: ReadonlySet<B> | undefined): boolean {
  return b.weight > 0 && b.available && (exclude === undefined || !exclude.has(b));
}

/** A source of uniform random numbers in [0, 1); injectable so that tests are deterministic. */
export type RandomSource = () => number;
