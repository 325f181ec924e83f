import { Counter, Gauge, type Registry } from "prom-client";
import type { RelayEndpoint } from "./relay-endpoint.ts";

/** Per-endpoint and per-service-port metrics of the relays, in one registry. */
export interface RelayMetrics {
  /** Endpoints whose counters are exported (current ones and removed ones still draining). */
  readonly endpoints: Set<RelayEndpoint>;
  /** A connection or datagram refused or dropped: `reason` is no_endpoints, source_range or dial_failed. */
  dropped(servicePortKey: string, protocol: string, reason: string): void;
  /** UDP sessions currently open. */
  readonly udpSessions: Gauge;
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
  const labelNames = ["service_port", "endpoint"] as const;
  const each = (
    fn: (ep: RelayEndpoint, labels: { service_port: string; endpoint: string }) => void,
  ): void => {
    for (const ep of endpoints) fn(ep, { service_port: ep.servicePortKey, endpoint: ep.key });
  };
  new Gauge({
    name: "kproxy_userspace_endpoint_active_connections",
    help: "Open relayed TCP connections and UDP sessions per endpoint",
    labelNames,
    registers: [registry],
    collect() {
      this.reset();
      each((ep, labels) => this.set(labels, ep.activeConnections));
    },
  });
  new Gauge({
    name: "kproxy_userspace_endpoint_ejected",
    help: "1 while the endpoint is ejected by passive outlier detection",
    labelNames,
    registers: [registry],
    collect() {
      this.reset();
      each((ep, labels) => this.set(labels, ep.available ? 0 : 1));
    },
  });
  const counter = (name: string, help: string, value: (ep: RelayEndpoint) => number): void => {
    new Counter({
      name,
      help,
      labelNames,
      registers: [registry],
      collect() {
        this.reset();
        each((ep, labels) => this.inc(labels, value(ep)));
      },
    });
  };
  counter(
    "kproxy_userspace_endpoint_connections_total",
    "Relayed TCP connections and UDP sessions per endpoint",
    (ep) => ep.totalConnections,
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
    collect() {
      this.reset();
      each((ep, labels) => {
        this.inc({ ...labels, direction: "to_endpoint" }, ep.bytesToEndpoint);
        this.inc({ ...labels, direction: "from_endpoint" }, ep.bytesFromEndpoint);
      });
    },
  });
  const dropped = new Counter({
    name: "kproxy_userspace_dropped_total",
    help: "TCP connections reset and UDP datagrams dropped, by reason (no_endpoints, source_range, dial_failed)",
    labelNames: ["service_port", "protocol", "reason"],
    registers: [registry],
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
  };
  byRegistry.set(registry, metrics);
  return metrics;
}
