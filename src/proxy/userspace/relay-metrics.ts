import { Counter, Gauge, type Registry } from "prom-client";
import type { RelayThreadsSnapshot } from "./threads/relay-threads.ts";
import { countersOf, type EndpointCounters, type RelayEndpoint } from "./relay-endpoint.ts";

/** Counters of endpoints balanced on other threads (the relay threads), fetched when scraped. */
export type RemoteCounters = () => Promise<RelayThreadsSnapshot>;

/** Per-endpoint and per-service-port metrics of the relays, in one registry. */
export interface RelayMetrics {
  /** Endpoints whose counters are exported (current ones and removed ones still draining). */
  readonly endpoints: Set<RelayEndpoint>;
  /** A connection or datagram refused or dropped: `reason` is no_endpoints, source_range or dial_failed. */
  dropped(servicePortKey: string, protocol: string, reason: string): void;
  /** UDP sessions currently open. */
  readonly udpSessions: Gauge;
  /** Also exports what `source` reports (until removed). */
  addRemote(source: RemoteCounters): void;
  removeRemote(source: RemoteCounters): void;
}

const byRegistry = new WeakMap<Registry, RelayMetrics>();

/**
 * The relay metrics of `registry`, created on first use. Endpoint counters live on the endpoint
 * objects (the hot path only adds to numbers) and are copied into the registry when it is scraped.
 */
export function relayMetrics(registry: Registry): RelayMetrics {
  const existing = byRegistry.get(registry);
  if (existing !== undefined) return existing;
  const endpoints = new Set<RelayEndpoint>();
  const remotes = new Set<RemoteCounters>();
  const labelNames = ["service_port", "endpoint"] as const;
  const snapshots = async (): Promise<RelayThreadsSnapshot[]> =>
    Promise.all([...remotes].map((source) => source().catch(() => ({ endpoints: [], dropped: new Map() }))));
  const each = async (
    fn: (ep: EndpointCounters, labels: { service_port: string; endpoint: string }) => void,
  ): Promise<void> => {
    for (const ep of endpoints) fn(countersOf(ep), { service_port: ep.servicePortKey, endpoint: ep.key });
    for (const snapshot of await snapshots())
      for (const ep of snapshot.endpoints) fn(ep, { service_port: ep.servicePortKey, endpoint: ep.key });
  };
  new Gauge({
    name: "kproxy_userspace_endpoint_active_connections",
    help: "Open relayed TCP connections and UDP sessions per endpoint",
    labelNames,
    registers: [registry],
    async collect() {
      this.reset();
      await each((ep, labels) => this.set(labels, ep.active));
    },
  });
  new Gauge({
    name: "kproxy_userspace_endpoint_ejected",
    help: "1 while the endpoint is ejected by passive outlier detection",
    labelNames,
    registers: [registry],
    async collect() {
      this.reset();
      await each((ep, labels) => this.set(labels, ep.ejected ? 1 : 0));
    },
  });
  const counter = (name: string, help: string, value: (ep: EndpointCounters) => number): void => {
    new Counter({
      name,
      help,
      labelNames,
      registers: [registry],
      async collect() {
        this.reset();
        await each((ep, labels) => this.inc(labels, value(ep)));
      },
    });
  };
  counter(
    "kproxy_userspace_endpoint_connections_total",
    "Relayed TCP connections and UDP sessions per endpoint",
    (ep) => ep.total,
  );
  counter(
    "kproxy_userspace_endpoint_connect_failures_total",
    "Failed connection attempts per endpoint (each was retried elsewhere)",
    (ep) => ep.connectFailures,
  );
  counter(
    "kproxy_userspace_endpoint_ejections_total",
    "Outlier ejections per endpoint",
    (ep) => ep.ejections,
  );
  new Counter({
    name: "kproxy_userspace_endpoint_bytes_total",
    help: "Bytes relayed per endpoint, by direction (to_endpoint, from_endpoint); TCP counted when a connection closes",
    labelNames: [...labelNames, "direction"],
    registers: [registry],
    async collect() {
      this.reset();
      await each((ep, labels) => {
        this.inc({ ...labels, direction: "to_endpoint" }, ep.toEndpoint);
        this.inc({ ...labels, direction: "from_endpoint" }, ep.fromEndpoint);
      });
    },
  });
  // Drops on relay threads arrive as totals; the counter takes what was added since the last look.
  const seenRemoteDrops = new Map<string, number>();
  const dropped = new Counter({
    name: "kproxy_userspace_dropped_total",
    help: "TCP connections reset and UDP datagrams dropped, by reason (no_endpoints, source_range, dial_failed)",
    labelNames: ["service_port", "protocol", "reason"],
    registers: [registry],
    async collect() {
      const totals = new Map<string, number>();
      for (const snapshot of await snapshots())
        for (const [key, n] of snapshot.dropped) totals.set(key, (totals.get(key) ?? 0) + n);
      for (const [key, total] of totals) {
        const seen = seenRemoteDrops.get(key) ?? 0;
        // Smaller than before: a relay thread was replaced and counts from zero again.
        const added = total >= seen ? total - seen : total;
        seenRemoteDrops.set(key, total);
        const cut = key.lastIndexOf("|");
        if (added > 0)
          this.inc({ service_port: key.slice(0, cut), protocol: "TCP", reason: key.slice(cut + 1) }, added);
      }
    },
  });
  const udpSessions = new Gauge({
    name: "kproxy_userspace_udp_sessions",
    help: "Open UDP client sessions",
    registers: [registry],
  });
  const metrics: RelayMetrics = {
    endpoints,
    dropped(servicePortKey, protocol, reason) {
      dropped.inc({ service_port: servicePortKey, protocol, reason });
    },
    udpSessions,
    addRemote: (source) => void remotes.add(source),
    removeRemote: (source) => void remotes.delete(source),
  };
  byRegistry.set(registry, metrics);
  return metrics;
}
