import { Counter, Histogram, type Registry } from "prom-client";

/** The DNS server's metrics (Prometheus names under `kproxy_dns_`). */
export interface DnsMetrics {
  /** Answered queries by question type, response code and transport. */
  readonly queries: Counter<"type" | "rcode" | "proto">;
  /** Time from receiving a query to sending its reply. */
  readonly duration: Histogram<"proto" | "source">;
  /** Packets dropped because they were not a readable DNS query. */
  readonly malformed: Counter<"proto">;
  /** Queries sent to the upstream resolvers, by outcome. */
  readonly forwards: Counter<"result">;
  /**
   * Time from an API change (the EndpointSlice's `endpoints.kubernetes.io/last-change-trigger-time`,
   * or a new Service's creation time) to the moment DNS answers it — upstream's
   * `dns_programming_duration_seconds`.
   */
  readonly programming: Histogram<"service_kind">;
}

/** Question types counted by name; anything else is counted as `other` to bound label values. */
export const countedTypes: ReadonlySet<string> = new Set([
  "A",
  "AAAA",
  "SRV",
  "PTR",
  "TXT",
  "CNAME",
  "SOA",
  "NS",
  "MX",
  "ANY",
]);

/**
 * Registers the metrics in `registry`, or returns the ones already there (several servers may
 * share one registry, as tests do).
 */
export function createDnsMetrics(registry: Registry): DnsMetrics {
  const get = <T>(name: string, make: () => T): T =>
    (registry.getSingleMetric(name) as T | undefined) ?? make();
  return {
    queries: get(
      "kproxy_dns_queries_total",
      () =>
        new Counter({
          name: "kproxy_dns_queries_total",
          help: "DNS queries answered, by question type, response code and transport.",
          labelNames: ["type", "rcode", "proto"],
          registers: [registry],
        }),
    ),
    duration: get(
      "kproxy_dns_query_duration_seconds",
      () =>
        new Histogram({
          name: "kproxy_dns_query_duration_seconds",
          help: "Time to answer a DNS query, by transport and source of the answer (zone or upstream).",
          labelNames: ["proto", "source"],
          buckets: [
            0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5,
            5,
          ],
          registers: [registry],
        }),
    ),
    malformed: get(
      "kproxy_dns_malformed_packets_total",
      () =>
        new Counter({
          name: "kproxy_dns_malformed_packets_total",
          help: "Packets dropped because they were not a readable DNS query.",
          labelNames: ["proto"],
          registers: [registry],
        }),
    ),
    forwards: get(
      "kproxy_dns_forward_requests_total",
      () =>
        new Counter({
          name: "kproxy_dns_forward_requests_total",
          help: "Queries forwarded to upstream resolvers, by result (ok, timeout, refused, error, no-upstream).",
          labelNames: ["result"],
          registers: [registry],
        }),
    ),
    programming: get(
      "kproxy_dns_programming_duration_seconds",
      () =>
        new Histogram({
          name: "kproxy_dns_programming_duration_seconds",
          help: "Time from an API change to the moment DNS answers it, by kind of Service.",
          labelNames: ["service_kind"],
          buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
          registers: [registry],
        }),
    ),
  };
}
