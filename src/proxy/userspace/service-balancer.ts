import { createScheduler } from "../../lb/create-scheduler.ts";
import { isSchedulerName, type PickContext, type Scheduler, type SchedulerName } from "../../lb/scheduler.ts";
import type { Endpoint } from "../../model/endpoint.ts";
import { nodeZone, type NodeInfo } from "../../model/node-info.ts";
import type { ServicePort } from "../../model/service-port.ts";
import type { Clock } from "../../sys/clock.ts";
import { categorizeEndpoints } from "../../topology/categorize-endpoints.ts";
import { newRelayEndpoint, type RelayEndpoint } from "./relay-endpoint.ts";
import type { RelayTuning } from "./relay-tuning.ts";

/**
 * Which traffic policy a new connection falls under: `internal` (a ClusterIP: internalTrafficPolicy),
 * `external` (NodePort, external or load-balancer IP: externalTrafficPolicy), or `cluster` (an
 * external address used by a pod or the node itself: always the cluster-wide endpoints, upstream's
 * short-circuit, so that such clients are never dropped by either Local policy).
 */
export type TrafficKind = "internal" | "external" | "cluster";

/** Where a balancer logs: pino's Logger fits, and so does a relay thread's forwarder. */
export interface BalancerLog {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
}

/** The endpoints whose counters the metrics export (removed ones stay until they have drained). */
export interface BalancerMetrics {
  readonly endpoints: Set<RelayEndpoint>;
}

interface AffinityEntry {
  endpoint: RelayEndpoint;
  lastUsed: number;
}

/** One traffic class's endpoints: cluster-wide (internal, eTP Cluster) or node-local (eTP/iTP Local). */
class EndpointSet {
  endpoints: RelayEndpoint[] = [];
  scheduler: Scheduler<RelayEndpoint>;
  readonly affinity = new Map<string, AffinityEntry>();

  constructor(name: SchedulerName) {
    this.scheduler = createScheduler<RelayEndpoint>(name);
  }
}

/**
 * Chooses endpoints for one service port: scheduler, ClientIP affinity, passive outlier ejection,
 * and the split between cluster-wide and node-local endpoints. Shared by every frontend (address)
 * of the port, so that rr and affinity span them all, as they do in the kernel modes.
 */
export class ServiceBalancer {
  readonly servicePortKey: string;
  #service: ServicePort;
  #schedulerName: SchedulerName;
  readonly #byKey = new Map<string, RelayEndpoint>();
  readonly #cluster: EndpointSet;
  readonly #local: EndpointSet;
  readonly #clock: Clock;
  readonly #tuning: RelayTuning;
  readonly #metrics: BalancerMetrics;
  readonly #logger: BalancerLog;
  readonly #defaultScheduler: SchedulerName;
  #affinityInserts = 0;
  readonly #timers = new Set<{ cancel(): void }>();

  constructor(
    service: ServicePort,
    options: {
      readonly defaultScheduler: SchedulerName;
      readonly clock: Clock;
      readonly tuning: RelayTuning;
      readonly metrics: BalancerMetrics;
      readonly logger: BalancerLog;
    },
  ) {
    this.servicePortKey = service.key;
    this.#service = service;
    this.#clock = options.clock;
    this.#tuning = options.tuning;
    this.#metrics = options.metrics;
    this.#logger = options.logger;
    this.#defaultScheduler = options.defaultScheduler;
    this.#schedulerName = this.#wantedScheduler(service);
    this.#cluster = new EndpointSet(this.#schedulerName);
    this.#local = new EndpointSet(this.#schedulerName);
  }

  get service(): ServicePort {
    return this.#service;
  }

  get schedulerName(): SchedulerName {
    return this.#schedulerName;
  }

  /** True when choosing needs the client's address (affinity, or a scheduler that hashes it). */
  get needsClientAddress(): boolean {
    return (
      this.#service.stickyMaxAgeSeconds > 0 || this.#schedulerName === "sh" || this.#schedulerName === "mh"
    );
  }

  /** Every endpoint currently in the set (not the removed ones still draining). */
  get endpoints(): readonly RelayEndpoint[] {
    return [...this.#byKey.values()];
  }

  #wantedScheduler(service: ServicePort): SchedulerName {
    const wanted = service.scheduler;
    if (wanted === undefined || wanted === "") return this.#defaultScheduler;
    if (isSchedulerName(wanted)) return wanted;
    this.#logger.warn(
      { service: service.key, scheduler: wanted },
      `unknown kproxy.io/scheduler ${JSON.stringify(wanted)}; using ${this.#defaultScheduler}`,
    );
    return this.#defaultScheduler;
  }

  /** Takes a new Service port definition and endpoint list (a sync). Removed endpoints drain. */
  update(service: ServicePort, endpoints: readonly Endpoint[], node: NodeInfo): void {
    this.#service = service;
    const name = this.#wantedScheduler(service);
    if (name !== this.#schedulerName) {
      this.#schedulerName = name;
      this.#cluster.scheduler = createScheduler<RelayEndpoint>(name);
      this.#local.scheduler = createScheduler<RelayEndpoint>(name);
      this.#cluster.endpoints = [];
      this.#local.endpoints = [];
    }
    const categorized = categorizeEndpoints(endpoints, service, { name: node.name, zone: nodeZone(node) });
    const seen = new Set<string>();
    const resolve = (ep: Endpoint): RelayEndpoint => {
      seen.add(ep.key);
      let relay = this.#byKey.get(ep.key);
      if (relay === undefined) {
        relay = newRelayEndpoint(ep, service.key);
        this.#byKey.set(ep.key, relay);
        this.#metrics.endpoints.add(relay);
      }
      relay.isLocal = ep.isLocal;
      return relay;
    };
    this.#setEndpoints(this.#cluster, categorized.clusterEndpoints.map(resolve));
    this.#setEndpoints(this.#local, categorized.localEndpoints.map(resolve));
    for (const [key, relay] of this.#byKey) {
      if (seen.has(key)) continue;
      this.#byKey.delete(key);
      this.#retire(relay);
    }
    if (service.stickyMaxAgeSeconds === 0) {
      this.#cluster.affinity.clear();
      this.#local.affinity.clear();
    }
  }

  #setEndpoints(set: EndpointSet, next: RelayEndpoint[]): void {
    const same = next.length === set.endpoints.length && next.every((ep, i) => ep === set.endpoints[i]);
    if (same) return;
    set.endpoints = next;
    set.scheduler.setBackends(next);
  }

  /** An endpoint left the set: it takes no new connections; its metrics go once it has drained. */
  #retire(relay: RelayEndpoint): void {
    relay.removed = true;
    if (relay.activeConnections === 0) this.#metrics.endpoints.delete(relay);
  }

  /** Called by the relays when a connection or session to `relay` ends. */
  released(relay: RelayEndpoint): void {
    relay.activeConnections--;
    if (relay.removed && relay.activeConnections === 0) this.#metrics.endpoints.delete(relay);
  }

  /** True when some traffic class has an endpoint (for "no endpoints: reject"). */
  get hasEndpoints(): boolean {
    return this.#cluster.endpoints.length > 0 || this.#local.endpoints.length > 0;
  }

  #setFor(traffic: TrafficKind): EndpointSet {
    const local =
      traffic === "external"
        ? this.#service.externalPolicyLocal
        : traffic === "internal"
          ? this.#service.internalPolicyLocal
          : false;
    return local ? this.#local : this.#cluster;
  }

  /**
   * Chooses the endpoint for a new connection or UDP session: the client's sticky endpoint while
   * its affinity lasts (and it is usable), else the scheduler's choice. `traffic` selects the
   * traffic policy; `exclude` holds endpoints that already failed for this connection.
   */
  pick(
    context: PickContext,
    traffic: TrafficKind,
    exclude?: ReadonlySet<RelayEndpoint>,
  ): RelayEndpoint | undefined {
    const set = this.#setFor(traffic);
    const maxAgeMs = this.#service.stickyMaxAgeSeconds * 1000;
    if (maxAgeMs === 0) return set.scheduler.pick(context, exclude);
    const now = this.#clock.now();
    const entry = set.affinity.get(context.clientIP);
    if (
      entry !== undefined &&
      now - entry.lastUsed < maxAgeMs &&
      !entry.endpoint.removed &&
      entry.endpoint.available &&
      (exclude === undefined || !exclude.has(entry.endpoint))
    ) {
      entry.lastUsed = now;
      return entry.endpoint;
    }
    const chosen = set.scheduler.pick(context, exclude);
    if (chosen === undefined) return undefined;
    if (entry !== undefined) {
      // Expired, or its endpoint is gone or failing: the client moves (and stays) here.
      entry.endpoint = chosen;
      entry.lastUsed = now;
    } else {
      set.affinity.set(context.clientIP, { endpoint: chosen, lastUsed: now });
      if (++this.#affinityInserts % 1024 === 0) this.#sweepAffinity(set, now, maxAgeMs);
    }
    return chosen;
  }

  #sweepAffinity(set: EndpointSet, now: number, maxAgeMs: number): void {
    for (const [ip, entry] of set.affinity) if (now - entry.lastUsed >= maxAgeMs) set.affinity.delete(ip);
  }

  /** A connection to `relay` was established: the endpoint is healthy again. */
  connectSucceeded(relay: RelayEndpoint): void {
    relay.consecutiveFailures = 0;
    // Healthy after a readmission: the next ejection, if any, is shorter again.
    if (relay.ejectionLevel > 0 && relay.available) relay.ejectionLevel--;
    relay.activeConnections++;
    relay.totalConnections++;
  }

  /**
   * A connection attempt to `relay` failed. After `ejectAfterFailures` in a row the endpoint is
   * ejected for `baseEjectionMs` times its ejection level (capped), unless that would eject more
   * than `maxEjectedShare` of the endpoints; it rejoins on its own when the interval ends.
   */
  connectFailed(relay: RelayEndpoint): void {
    relay.connectFailures++;
    relay.consecutiveFailures++;
    if (!relay.available || relay.removed || relay.consecutiveFailures < this.#tuning.ejectAfterFailures)
      return;
    const all = this.#byKey.size;
    let ejected = 0;
    for (const ep of this.#byKey.values()) if (!ep.available) ejected++;
    if (ejected + 1 > Math.floor(all * this.#tuning.maxEjectedShare)) return;
    relay.ejectionLevel++;
    relay.ejections++;
    relay.available = false;
    const ms = Math.min(this.#tuning.baseEjectionMs * relay.ejectionLevel, this.#tuning.maxEjectionMs);
    this.#logger.info(
      {
        service: this.servicePortKey,
        endpoint: relay.key,
        ejectedForMs: ms,
        failures: relay.consecutiveFailures,
      },
      "endpoint ejected after consecutive connect failures",
    );
    const timer = this.#clock.setTimeout(() => {
      this.#timers.delete(timer);
      relay.available = true;
      relay.consecutiveFailures = 0;
      this.#logger.info({ service: this.servicePortKey, endpoint: relay.key }, "ejected endpoint readmitted");
    }, ms);
    this.#timers.add(timer);
  }

  /** The service port is gone: endpoints drain, metrics go as they do. */
  close(): void {
    for (const timer of this.#timers) timer.cancel();
    this.#timers.clear();
    for (const relay of this.#byKey.values()) this.#retire(relay);
    this.#byKey.clear();
  }
}
