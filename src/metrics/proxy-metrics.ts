import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";

/**
 * The sync runtime's metrics, with kube-proxy's names (`pkg/proxy/metrics`), registered in one
 * registry per running proxy (never the global one), so that several proxies can share a process.
 */
export interface ProxyMetrics {
  readonly registry: Registry;
  readonly syncProxyRulesLatency: Histogram;
  readonly syncFullProxyRulesLatency: Histogram;
  readonly syncPartialProxyRulesLatency: Histogram;
  readonly syncProxyRulesLastTimestamp: Gauge;
  readonly syncProxyRulesLastQueuedTimestamp: Gauge;
  readonly networkProgrammingLatency: Histogram;
  readonly serviceChangesTotal: Counter;
  readonly serviceChangesPending: Gauge;
  readonly endpointChangesTotal: Counter;
  readonly endpointChangesPending: Gauge;
  readonly syncFailuresTotal: Counter;
  readonly invalidObjectsTotal: Counter<"kind" | "reason">;
  readonly healthzTotal: Counter<"code">;
  readonly livezTotal: Counter<"code">;
}

/** Upstream's sync-latency buckets: exponential from 1 ms, factor 2, 15 buckets. */
function syncBuckets(): number[] {
  return Array.from({ length: 15 }, (_, i) => 0.001 * 2 ** i);
}

/** Upstream's network-programming buckets: 0.25-1 s by 0.25, 1-59 s by 1, 60-115 s by 5, 120-300 s by 30. */
function programmingBuckets(): number[] {
  const out: number[] = [];
  const linear = (start: number, width: number, count: number): void => {
    for (let i = 0; i < count; i++) out.push(start + i * width);
  };
  linear(0.25, 0.25, 2);
  linear(1, 1, 59);
  linear(60, 5, 12);
  linear(120, 30, 7);
  return out;
}

/**
 * Creates a registry with kube-proxy's sync metrics and Node's process metrics (`process_*`,
 * `nodejs_*`). Mode-specific metrics (e.g. `kubeproxy_sync_proxy_rules_iptables_restore_failures_total`)
 * are registered by the modes in the same registry (`ProxierDeps.metrics`).
 */
export function createProxyMetrics(options: { readonly processMetrics?: boolean } = {}): ProxyMetrics {
  const registry = new Registry();
  if (options.processMetrics !== false) collectDefaultMetrics({ register: registry });
  const registers = [registry];
  return {
    registry,
    syncProxyRulesLatency: new Histogram({
      name: "kubeproxy_sync_proxy_rules_duration_seconds",
      help: "SyncProxyRules latency in seconds",
      buckets: syncBuckets(),
      registers,
    }),
    syncFullProxyRulesLatency: new Histogram({
      name: "kubeproxy_sync_full_proxy_rules_duration_seconds",
      help: "SyncProxyRules latency in seconds for full resyncs",
      buckets: syncBuckets(),
      registers,
    }),
    syncPartialProxyRulesLatency: new Histogram({
      name: "kubeproxy_sync_partial_proxy_rules_duration_seconds",
      help: "SyncProxyRules latency in seconds for partial resyncs",
      buckets: syncBuckets(),
      registers,
    }),
    syncProxyRulesLastTimestamp: new Gauge({
      name: "kubeproxy_sync_proxy_rules_last_timestamp_seconds",
      help: "The last time proxy rules were successfully synced",
      registers,
    }),
    syncProxyRulesLastQueuedTimestamp: new Gauge({
      name: "kubeproxy_sync_proxy_rules_last_queued_timestamp_seconds",
      help: "The last time a sync of proxy rules was queued",
      registers,
    }),
    networkProgrammingLatency: new Histogram({
      name: "kubeproxy_network_programming_duration_seconds",
      help: "In Cluster Network Programming Latency in seconds",
      buckets: programmingBuckets(),
      registers,
    }),
    serviceChangesTotal: new Counter({
      name: "kubeproxy_sync_proxy_rules_service_changes_total",
      help: "Cumulative proxy rules Service changes",
      registers,
    }),
    serviceChangesPending: new Gauge({
      name: "kubeproxy_sync_proxy_rules_service_changes_pending",
      help: "Pending proxy rules Service changes",
      registers,
    }),
    endpointChangesTotal: new Counter({
      name: "kubeproxy_sync_proxy_rules_endpoint_changes_total",
      help: "Cumulative proxy rules Endpoint changes",
      registers,
    }),
    endpointChangesPending: new Gauge({
      name: "kubeproxy_sync_proxy_rules_endpoint_changes_pending",
      help: "Pending proxy rules Endpoint changes",
      registers,
    }),
    syncFailuresTotal: new Counter({
      name: "kproxy_sync_proxy_rules_failures_total",
      help: "Syncs of proxy rules that failed (the previous rules stayed in place; retried with back-off)",
      registers,
    }),
    invalidObjectsTotal: new Counter({
      name: "kproxy_invalid_objects_total",
      help: "Services and EndpointSlices skipped because the proxy cannot use them, by kind and offending field",
      labelNames: ["kind", "reason"] as const,
      registers,
    }),
    healthzTotal: new Counter({
      name: "kubeproxy_proxy_healthz_total",
      help: "Cumulative proxy healthz HTTP status",
      labelNames: ["code"] as const,
      registers,
    }),
    livezTotal: new Counter({
      name: "kubeproxy_proxy_livez_total",
      help: "Cumulative proxy livez HTTP status",
      labelNames: ["code"] as const,
      registers,
    }),
  };
}
