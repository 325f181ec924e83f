import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { HttpServerHandle } from "../health/healthz-server.ts";
import { ProxierHealth } from "../health/proxier-health.ts";
import { startMetricsServer } from "./metrics-server.ts";
import { createProxyMetrics } from "./proxy-metrics.ts";

describe("metrics server", () => {
  const metrics = createProxyMetrics();
  const health = new ProxierHealth({ healthTimeoutMs: 1000 });
  let server: HttpServerHandle;
  before(async () => {
    server = await startMetricsServer("127.0.0.1:0", {
      registry: metrics.registry,
      health,
      mode: "iptables",
    });
  });
  after(() => server.close());

  it("serves kube-proxy's metric names and process metrics on /metrics", async () => {
    metrics.syncProxyRulesLatency.observe(0.01);
    const res = await fetch(`http://${server.address}/metrics`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /^text\/plain/);
    const text = await res.text();
    for (const name of [
      "kubeproxy_sync_proxy_rules_duration_seconds_bucket",
      "kubeproxy_sync_full_proxy_rules_duration_seconds",
      "kubeproxy_sync_partial_proxy_rules_duration_seconds",
      "kubeproxy_sync_proxy_rules_last_timestamp_seconds",
      "kubeproxy_sync_proxy_rules_last_queued_timestamp_seconds",
      "kubeproxy_network_programming_duration_seconds",
      "kubeproxy_sync_proxy_rules_service_changes_total",
      "kubeproxy_sync_proxy_rules_service_changes_pending",
      "kubeproxy_sync_proxy_rules_endpoint_changes_total",
      "kubeproxy_sync_proxy_rules_endpoint_changes_pending",
      "process_cpu_seconds_total",
      "process_resident_memory_bytes",
    ]) {
      assert.match(text, new RegExp(`^${name}`, "m"), name);
    }
    assert.match(text, /^kubeproxy_sync_proxy_rules_duration_seconds_count 1$/m);
    assert.match(text, /kubeproxy_sync_proxy_rules_duration_seconds_bucket\{le="0.001"\} 0/);
    assert.match(text, /kubeproxy_sync_proxy_rules_duration_seconds_bucket\{le="16.384"\} 1/);
  });

  it("also answers /healthz, /livez and /proxyMode like upstream's metrics server", async () => {
    const h = await fetch(`http://${server.address}/healthz`);
    assert.equal(h.status, 200);
    assert.equal(((await h.json()) as { nodeEligible: boolean }).nodeEligible, true);
    const l = await fetch(`http://${server.address}/livez`);
    assert.equal(l.status, 200);
    await l.text();
    const m = await fetch(`http://${server.address}/proxyMode`);
    assert.equal(await m.text(), "iptables");
    const other = await fetch(`http://${server.address}/nope`);
    assert.equal(other.status, 404);
    await other.text();
  });

  it("keeps registries apart so several proxies can share a process", async () => {
    const a = createProxyMetrics();
    const b = createProxyMetrics();
    a.serviceChangesTotal.inc(5);
    const name = "kubeproxy_sync_proxy_rules_service_changes_total";
    assert.match(await a.registry.getSingleMetricAsString(name), / 5$/m);
    assert.match(await b.registry.getSingleMetricAsString(name), / 0$/m);
  });
});
