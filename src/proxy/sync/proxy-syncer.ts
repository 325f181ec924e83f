import { isDeepStrictEqual } from "node:util";
import type { V1EndpointSlice, V1Node, V1Service } from "@kubernetes/client-node";
import {
  applyEndpointsChanges,
  EndpointsChangeTracker,
  type EndpointsChanges,
} from "../../changes/endpoints-change-tracker.ts";
import {
  applyServiceChanges,
  ServiceChangeTracker,
  type ServiceChanges,
} from "../../changes/service-change-tracker.ts";
import type { ProxierHealth } from "../../health/proxier-health.ts";
import type { ServiceHealthServer } from "../../health/service-health-server.ts";
import type { ProxyMetrics } from "../../metrics/proxy-metrics.ts";
import type { Endpoint } from "../../model/endpoint.ts";
import { cidrFamilyOf, ipFamilyOf } from "../../model/ip.ts";
import type { NodeInfo } from "../../model/node-info.ts";
import type { IPFamily } from "../../model/protocol.ts";
import type { ProxyState } from "../../model/proxy-state.ts";
import type { ServicePort } from "../../model/service-port.ts";
import type { ObjectHandlers } from "../../sources/object-source.ts";
import type { Clock } from "../../sys/clock.ts";
import type { Logger } from "../../sys/logger.ts";
import type { Proxier, SyncRequest } from "../proxier.ts";
import { BoundedFrequencyRunner } from "./bounded-frequency-runner.ts";
import { localInterfaceAddresses, nodeInfoFromNode } from "./node-info-from-node.ts";

const families: readonly IPFamily[] = ["IPv4", "IPv6"];

/** Everything a ProxySyncer is built from. */
export interface ProxySyncerOptions {
  readonly proxier: Proxier;
  readonly nodeName: string;
  /** Configured node IPs (`--node-ip`); they win over the Node object's addresses. */
  readonly nodeIPs: readonly string[];
  /** The cluster's service CIDRs (both families); each state gets those of its family. */
  readonly serviceCIDRs: readonly string[];
  readonly minSyncPeriodMs: number;
  readonly syncPeriodMs: number;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly metrics: ProxyMetrics;
  readonly health: ProxierHealth;
  readonly serviceHealth?: ServiceHealthServer;
  /** The node's interface addresses as CIDRs (default: `os.networkInterfaces()`). */
  readonly localAddresses?: () => readonly string[];
  /** First retry delay after a failed sync (default: max(minSyncPeriod, 1 s)). */
  readonly retryBaseMs?: number;
}

/**
 * Turns informer events into proxier syncs: feeds the change trackers (one pair per IP family),
 * runs the bounded-frequency sync loop once every informer has synced, builds each SyncRequest
 * (one ProxyState per family the node uses), and after each successful sync updates the metrics,
 * the proxy health and the per-Service health check servers.
 */
export class ProxySyncer {
  readonly #o: ProxySyncerOptions;
  readonly #runner: BoundedFrequencyRunner;
  readonly #serviceTrackers: Record<IPFamily, ServiceChangeTracker>;
  readonly #endpointTrackers: Record<IPFamily, EndpointsChangeTracker>;
  readonly #services: Record<IPFamily, Map<string, ServicePort>> = { IPv4: new Map(), IPv6: new Map() };
  readonly #endpoints: Record<IPFamily, Map<string, readonly Endpoint[]>> = {
    IPv4: new Map(),
    IPv6: new Map(),
  };
  /** Services changed since the last successful sync, with when each change was triggered. */
  readonly #unsynced = new Map<string, number>();
  #node: V1Node | undefined;
  #lastNodeInfo: NodeInfo | undefined;
  #initialized = false;
  #lastRequest: SyncRequest | undefined;
  #resolveFirstAttempt: () => void = () => {};
  /** Resolves once the first sync has run (whether it succeeded or not). */
  readonly firstAttempt: Promise<void> = new Promise((resolve) => (this.#resolveFirstAttempt = resolve));

  constructor(options: ProxySyncerOptions) {
    this.#o = options;
    const onInvalid = (kind: string, key: string, reason: string): void =>
      this.#reportInvalid(kind, key, reason);
    // Only the IPv4 trackers report invalid objects, so that each is logged and counted once.
    const tracker = (family: IPFamily): ServiceChangeTracker =>
      new ServiceChangeTracker({ family, clock: options.clock, ...(family === "IPv4" ? { onInvalid } : {}) });
    const epTracker = (family: IPFamily): EndpointsChangeTracker =>
      new EndpointsChangeTracker({
        family,
        nodeName: options.nodeName,
        clock: options.clock,
        ...(family === "IPv4" ? { onInvalid } : {}),
      });
    this.#serviceTrackers = { IPv4: tracker("IPv4"), IPv6: tracker("IPv6") };
    this.#endpointTrackers = { IPv4: epTracker("IPv4"), IPv6: epTracker("IPv6") };
    this.#runner = new BoundedFrequencyRunner({
      clock: options.clock,
      logger: options.logger,
      minIntervalMs: options.minSyncPeriodMs,
      maxIntervalMs: options.syncPeriodMs,
      ...(options.retryBaseMs === undefined ? {} : { retryBaseMs: options.retryBaseMs }),
      run: (full) => this.#sync(full).finally(() => this.#resolveFirstAttempt()),
    });
  }

  /** Informer handlers for Services. */
  get serviceHandlers(): ObjectHandlers<V1Service> {
    return {
      add: (svc) => this.#onService(undefined, svc),
      update: (previous, svc) => this.#onService(previous, svc),
      delete: (svc) => this.#onService(svc, undefined),
    };
  }

  /** Informer handlers for EndpointSlices. */
  get endpointSliceHandlers(): ObjectHandlers<V1EndpointSlice> {
    return {
      add: (slice) => this.#onSlice(slice, false),
      update: (_previous, slice) => this.#onSlice(slice, false),
      delete: (slice) => this.#onSlice(slice, true),
    };
  }

  /** Informer handlers for this node's Node. */
  get nodeHandlers(): ObjectHandlers<V1Node> {
    return {
      add: (node) => this.#onNode(node),
      update: (_previous, node) => this.#onNode(node),
      delete: () => this.#onNode(undefined),
    };
  }

  /** Call once every informer has delivered its first full list: starts syncing (a full sync first). */
  start(): void {
    this.#initialized = true;
    this.#runner.start();
  }

  /** Stops syncing; resolves once a sync in flight has finished. The rules stay in place. */
  async stop(): Promise<void> {
    this.#initialized = false;
    await this.#runner.stop();
    this.#resolveFirstAttempt();
  }

  /** Syncs run so far and how many failed. */
  get counts(): { syncs: number; failures: number } {
    return this.#runner.counts;
  }

  /** The last request handed to the proxier (for diagnostics and tests). */
  get lastRequest(): SyncRequest | undefined {
    return this.#lastRequest;
  }

  #onService(previous: V1Service | undefined, current: V1Service | undefined): void {
    this.#o.metrics.serviceChangesTotal.inc();
    let pending = false;
    for (const f of families) pending = this.#serviceTrackers[f].update(previous, current) || pending;
    this.#o.metrics.serviceChangesPending.set(this.#pendingOf(this.#serviceTrackers));
    if (pending) this.#queue();
  }

  #onSlice(slice: V1EndpointSlice, removed: boolean): void {
    this.#o.metrics.endpointChangesTotal.inc();
    let pending = false;
    for (const f of families)
      pending = this.#endpointTrackers[f].endpointSliceUpdate(slice, removed) || pending;
    this.#o.metrics.endpointChangesPending.set(this.#pendingOf(this.#endpointTrackers));
    if (pending) this.#queue();
  }

  #onNode(node: V1Node | undefined): void {
    const previous = this.#node;
    this.#node = node;
    if (node === undefined) this.#o.health.nodeDeleted();
    else this.#o.health.syncNode(node);
    const relevant = (n: V1Node | undefined): unknown => [
      n?.metadata?.labels,
      n?.spec?.podCIDRs,
      n?.status?.addresses,
    ];
    // Zone labels (topology), pod CIDRs and addresses feed every service's rules: resync everything.
    if (!isDeepStrictEqual(relevant(previous), relevant(node)) && this.#initialized) {
      this.#runner.requestFullSync();
    }
  }

  #queue(): void {
    if (!this.#initialized) return;
    this.#o.health.queuedUpdate();
    this.#o.metrics.syncProxyRulesLastQueuedTimestamp.set(this.#o.clock.now() / 1000);
    this.#runner.requestSync();
  }

  #pendingOf(trackers: Record<IPFamily, { readonly pendingCount: number }>): number {
    return Math.max(trackers.IPv4.pendingCount, trackers.IPv6.pendingCount);
  }

  #reportInvalid(kind: string, key: string, reason: string): void {
    this.#o.logger.warn({ kind, object: key, reason }, `skipping ${kind} ${key}: the proxy cannot use it`);
    this.#o.metrics.invalidObjectsTotal.inc({ kind, reason: reasonLabel(reason) });
  }

  async #sync(full: boolean): Promise<void> {
    const start = this.#o.clock.now();
    for (const f of families) {
      const svc: ServiceChanges = this.#serviceTrackers[f].checkoutChanges();
      const eps: EndpointsChanges = this.#endpointTrackers[f].checkoutChanges();
      applyServiceChanges(this.#services[f], svc);
      applyEndpointsChanges(this.#endpoints[f], eps);
      for (const [key, change] of svc.changes) this.#markUnsynced(key, change.queuedAt);
      for (const [key, change] of eps.changes) this.#markUnsynced(key, change.triggeredAt);
    }
    this.#o.metrics.serviceChangesPending.set(0);
    this.#o.metrics.endpointChangesPending.set(0);

    const node = nodeInfoFromNode(this.#node, {
      name: this.#o.nodeName,
      nodeIPs: this.#o.nodeIPs,
      localAddresses: (this.#o.localAddresses ?? localInterfaceAddresses)(),
    });
    const nodeChanged = this.#lastNodeInfo !== undefined && !isDeepStrictEqual(this.#lastNodeInfo, node);
    const used = familiesInUse(node);
    const states: ProxyState[] = used.map((family) => ({
      family,
      services: new Map(this.#services[family]),
      endpoints: new Map(this.#endpoints[family]),
      node,
      serviceCIDRs: this.#o.serviceCIDRs.filter((c) => cidrFamilyOf(c) === family),
    }));
    const request: SyncRequest = {
      states,
      full: full || nodeChanged || this.#lastNodeInfo === undefined,
      changedServices: new Set(this.#unsynced.keys()),
    };
    this.#lastRequest = request;
    try {
      await this.#o.proxier.sync(request);
    } catch (err) {
      this.#o.metrics.syncFailuresTotal.inc();
      throw err;
    }
    this.#lastNodeInfo = node;
    const end = this.#o.clock.now();
    const seconds = (end - start) / 1000;
    this.#o.metrics.syncProxyRulesLatency.observe(seconds);
    (request.full
      ? this.#o.metrics.syncFullProxyRulesLatency
      : this.#o.metrics.syncPartialProxyRulesLatency
    ).observe(seconds);
    this.#o.metrics.syncProxyRulesLastTimestamp.set(end / 1000);
    for (const triggeredAt of this.#unsynced.values()) {
      this.#o.metrics.networkProgrammingLatency.observe(Math.max(0, end - triggeredAt) / 1000);
    }
    this.#unsynced.clear();
    this.#o.health.updated();
    this.#o.logger.debug(
      { full: request.full, changed: request.changedServices.size, ms: end - start },
      "synced proxy rules",
    );
    if (this.#o.serviceHealth !== undefined) await updateServiceHealth(this.#o.serviceHealth, states);
  }

  #markUnsynced(key: string, at: number): void {
    const known = this.#unsynced.get(key);
    if (known === undefined || at < known) this.#unsynced.set(key, at);
  }
}

/** IPv4 always; IPv6 too when the node has an IPv6 node IP. */
export function familiesInUse(node: NodeInfo): IPFamily[] {
  return node.nodeIPs.some((ip) => ipFamilyOf(ip) === "IPv6") ? ["IPv4", "IPv6"] : ["IPv4"];
}

/**
 * Points the per-Service health check servers at the synced state: every Service with a
 * `healthCheckNodePort`, and its number of local ready endpoints (the most any of its ports has).
 */
export async function updateServiceHealth(
  server: ServiceHealthServer,
  states: readonly ProxyState[],
): Promise<void> {
  const ports = new Map<string, number>();
  const local = new Map<string, number>();
  for (const state of states) {
    for (const svc of state.services.values()) {
      if (svc.healthCheckNodePort <= 0) continue;
      ports.set(svc.serviceKey, svc.healthCheckNodePort);
      const count = (state.endpoints.get(svc.key) ?? []).filter((ep) => ep.isLocal && ep.ready).length;
      local.set(svc.serviceKey, Math.max(local.get(svc.serviceKey) ?? 0, count));
    }
  }
  await server.syncServices(ports);
  server.syncEndpoints(local);
}

/** A low-cardinality label for a skip reason: its leading field path, list indexes removed. */
export function reasonLabel(reason: string): string {
  const head = reason.split(" ")[0] ?? "";
  return /^[a-zA-Z]/.test(head) ? head.replace(/\[\d+\]/g, "[]") : "other";
}
