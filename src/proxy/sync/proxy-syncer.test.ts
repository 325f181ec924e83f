import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { describe, it } from "node:test";
import type { V1Node } from "@kubernetes/client-node";
import { pino } from "pino";
import { annotationLastChangeTriggerTime } from "../../changes/endpoints-change-tracker.ts";
import { makeService, makeSlice } from "../../changes/test-objects.ts";
import { ProxierHealth } from "../../health/proxier-health.ts";
import type { ServiceHealthServer } from "../../health/service-health-server.ts";
import { createProxyMetrics } from "../../metrics/proxy-metrics.ts";
import { ManualClock } from "./manual-clock.ts";
import { ProxySyncer, reasonLabel } from "./proxy-syncer.ts";
import { RecordingProxier } from "./recording-proxier.ts";

function setup(o: { nodeIPs?: string[]; serviceHealth?: ServiceHealthServer } = {}) {
  const clock = new ManualClock(Date.parse("2026-01-01T00:00:00Z"));
  const lines: Array<Record<string, unknown>> = [];
  const logger = pino(
    { level: "debug" },
    new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const line of chunk.toString().split("\n"))
          if (line) lines.push(JSON.parse(line) as Record<string, unknown>);
        done();
      },
    }),
  );
  const metrics = createProxyMetrics({ processMetrics: false });
  const health = new ProxierHealth({ healthTimeoutMs: 60_000, clock });
  const proxier = new RecordingProxier();
  const syncer = new ProxySyncer({
    proxier,
    nodeName: "node-1",
    nodeIPs: o.nodeIPs ?? ["192.168.0.2"],
    serviceCIDRs: ["10.96.0.0/12", "fd00:96::/112"],
    minSyncPeriodMs: 1000,
    syncPeriodMs: 30_000,
    clock,
    logger,
    metrics,
    health,
    localAddresses: () => ["127.0.0.1/8", "192.168.0.2/24"],
    ...(o.serviceHealth ? { serviceHealth: o.serviceHealth } : {}),
  });
  return { clock, lines, metrics, health, proxier, syncer };
}

async function metricValue(m: ReturnType<typeof createProxyMetrics>, name: string): Promise<string> {
  return m.registry.getSingleMetricAsString(name);
}

describe("ProxySyncer", () => {
  it("does not sync before start, then syncs everything known in one full sync", async () => {
    const { clock, proxier, syncer } = setup();
    syncer.serviceHandlers.add?.(makeService("ns", "a", { clusterIP: "10.96.0.1" }));
    syncer.endpointSliceHandlers.add?.(makeSlice("ns", "a", "a-1", ["10.0.0.1"]));
    await clock.advance(10_000);
    assert.equal(proxier.requests.length, 0);
    syncer.start();
    await clock.advance(0);
    assert.equal(proxier.requests.length, 1);
    const [first] = proxier.requests;
    assert.equal(first?.full, true);
    assert.deepEqual([...(first?.changedServices ?? [])], ["ns/a"]);
    assert.equal(first?.states.length, 1);
    const state = first?.states[0];
    assert.equal(state?.family, "IPv4");
    assert.deepEqual([...(state?.services.keys() ?? [])], ["ns/a"]);
    assert.deepEqual(
      state?.endpoints.get("ns/a")?.map((e) => e.key),
      ["10.0.0.1:8080"],
    );
    assert.deepEqual(state?.serviceCIDRs, ["10.96.0.0/12"]);
    assert.deepEqual(state?.node.nodeIPs, ["192.168.0.2"]);
    assert.deepEqual(state?.node.localAddresses, ["127.0.0.1/8", "192.168.0.2/24"]);
    await syncer.stop();
  });

  it("skips a malformed Service with a logged reason and a metric while the others still sync", async () => {
    const { clock, proxier, syncer, lines, metrics } = setup();
    syncer.start();
    await clock.advance(0);
    syncer.serviceHandlers.add?.(makeService("ns", "good", { clusterIP: "10.96.0.1" }));
    syncer.serviceHandlers.add?.(makeService("ns", "bad", { clusterIP: "10.96.0.2", ports: [{ port: 0 }] }));
    syncer.serviceHandlers.add?.(makeService("ns", "weird", { clusterIP: "not-an-ip" }));
    syncer.serviceHandlers.add?.(makeService("ns", "also-good", { clusterIP: "10.96.0.3" }));
    await clock.advance(2000);
    const last = proxier.requests.at(-1);
    assert.deepEqual([...(last?.states[0]?.services.keys() ?? [])].sort(), ["ns/also-good", "ns/good"]);
    const skips = lines.filter((l) => l["kind"] === "Service" && l["reason"] !== undefined);
    assert.deepEqual(
      skips.map((l) => [l["object"], l["reason"]]),
      [
        ["ns/bad", "spec.ports[0].port 0 is not in 1-65535"],
        ["ns/weird", 'spec.clusterIPs contains "not-an-ip", not an IP address'],
      ],
    );
    const text = await metricValue(metrics, "kproxy_invalid_objects_total");
    assert.match(text, /kproxy_invalid_objects_total\{kind="Service",reason="spec.ports\[\].port"\} 1/);
    assert.match(text, /kproxy_invalid_objects_total\{kind="Service",reason="spec.clusterIPs"\} 1/);
    await syncer.stop();
  });

  it("sends partial syncs with the changed services, and full ones periodically", async () => {
    const { clock, proxier, syncer } = setup();
    syncer.serviceHandlers.add?.(makeService("ns", "a", { clusterIP: "10.96.0.1" }));
    syncer.start();
    await clock.advance(5000);
    syncer.serviceHandlers.add?.(makeService("ns", "b", { clusterIP: "10.96.0.2" }));
    syncer.endpointSliceHandlers.add?.(makeSlice("ns", "a", "a-1", ["10.0.0.1"]));
    await clock.advance(1);
    const partial = proxier.requests.at(-1);
    assert.equal(partial?.full, false);
    assert.deepEqual([...(partial?.changedServices ?? [])].sort(), ["ns/a", "ns/b"]);
    assert.equal(partial?.states[0]?.services.size, 2);
    await clock.advance(30_000);
    const periodic = proxier.requests.at(-1);
    assert.equal(periodic?.full, true);
    assert.equal(periodic?.changedServices.size, 0);
    await syncer.stop();
  });

  it("retries a failed sync in full, keeping the changed services", async () => {
    const { clock, proxier, syncer, metrics } = setup();
    syncer.start();
    await clock.advance(5000);
    proxier.failNext(1);
    syncer.serviceHandlers.add?.(makeService("ns", "a", { clusterIP: "10.96.0.1" }));
    await clock.advance(1);
    await clock.advance(1500);
    const [failed, retried] = proxier.requests.slice(-2);
    assert.equal(failed?.full, false);
    assert.equal(retried?.full, true);
    assert.deepEqual([...(retried?.changedServices ?? [])], ["ns/a"]);
    assert.deepEqual(syncer.counts, { syncs: 3, failures: 1 });
    assert.match(await metricValue(metrics, "kproxy_sync_proxy_rules_failures_total"), / 1$/m);
    await syncer.stop();
  });

  it("adds an IPv6 state when the node has an IPv6 node IP", async () => {
    const { clock, proxier, syncer } = setup({ nodeIPs: [] });
    syncer.serviceHandlers.add?.(makeService("ns", "d", { clusterIPs: ["10.96.0.5", "fd00:96::5"] }));
    const node: V1Node = {
      metadata: { name: "node-1", labels: { "topology.kubernetes.io/zone": "z1" } },
      status: {
        addresses: [
          { type: "InternalIP", address: "192.168.0.2" },
          { type: "InternalIP", address: "fd00::2" },
        ],
      },
    };
    syncer.nodeHandlers.add?.(node);
    syncer.start();
    await clock.advance(0);
    const states = proxier.requests.at(-1)?.states ?? [];
    assert.deepEqual(
      states.map((s) => [s.family, [...s.services.values()].map((p) => p.clusterIP), s.serviceCIDRs]),
      [
        ["IPv4", ["10.96.0.5"], ["10.96.0.0/12"]],
        ["IPv6", ["fd00:96::5"], ["fd00:96::/112"]],
      ],
    );
    assert.deepEqual(states[0]?.node.labels, { "topology.kubernetes.io/zone": "z1" });
    await syncer.stop();
  });

  it("resyncs in full when the node's labels change", async () => {
    const { clock, proxier, syncer } = setup();
    syncer.nodeHandlers.add?.({ metadata: { name: "node-1", labels: { zone: "a" } } });
    syncer.start();
    await clock.advance(5000);
    syncer.nodeHandlers.update?.(
      { metadata: { name: "node-1", labels: { zone: "a" } } },
      { metadata: { name: "node-1", labels: { zone: "b" } } },
    );
    await clock.advance(1);
    assert.equal(proxier.requests.length, 2);
    assert.equal(proxier.requests[1]?.full, true);
    await syncer.stop();
  });

  it("records sync metrics and network programming latency from the trigger time", async () => {
    const { clock, syncer, metrics } = setup();
    syncer.start();
    await clock.advance(10_000);
    // The EndpointSlice controller saw the change 3 s before kproxy was told.
    const trigger = new Date(clock.now() - 3000).toISOString();
    syncer.endpointSliceHandlers.add?.(
      makeSlice("ns", "a", "a-1", ["10.0.0.1"], {
        annotations: { [annotationLastChangeTriggerTime]: trigger },
      }),
    );
    assert.match(await metricValue(metrics, "kubeproxy_sync_proxy_rules_endpoint_changes_pending"), / 1$/m);
    const syncedAt = clock.now();
    await clock.advance(1);
    const latency = await metricValue(metrics, "kubeproxy_network_programming_duration_seconds");
    assert.match(latency, /_count 1$/m);
    assert.match(latency, /_sum 3$/m);
    assert.match(await metricValue(metrics, "kubeproxy_sync_proxy_rules_endpoint_changes_total"), / 1$/m);
    assert.match(await metricValue(metrics, "kubeproxy_sync_proxy_rules_endpoint_changes_pending"), / 0$/m);
    assert.match(await metricValue(metrics, "kubeproxy_sync_proxy_rules_duration_seconds"), /_count 2$/m);
    assert.match(
      await metricValue(metrics, "kubeproxy_sync_full_proxy_rules_duration_seconds"),
      /_count 1$/m,
    );
    assert.match(
      await metricValue(metrics, "kubeproxy_sync_partial_proxy_rules_duration_seconds"),
      /_count 1$/m,
    );
    const last = await metricValue(metrics, "kubeproxy_sync_proxy_rules_last_timestamp_seconds");
    assert.match(last, new RegExp(` ${syncedAt / 1000}$`, "m"));
    await syncer.stop();
  });

  it("reports unhealthy when a queued change is not synced in time, healthy again after a sync", async () => {
    const { clock, proxier, syncer, health } = setup();
    syncer.start();
    await clock.advance(0);
    proxier.failNext(1000);
    syncer.serviceHandlers.add?.(makeService("ns", "a", { clusterIP: "10.96.0.1" }));
    await clock.advance(59_000);
    assert.equal(health.isHealthy(), true);
    await clock.advance(2000);
    assert.equal(health.isHealthy(), false);
    proxier.failNext(0);
    await clock.advance(60_000);
    assert.equal(health.isHealthy(), true);
    await syncer.stop();
  });

  it("points the service health checks at Services with a healthCheckNodePort and their local endpoints", async () => {
    const calls: Array<[string, unknown]> = [];
    const stand: Pick<ServiceHealthServer, "syncServices" | "syncEndpoints"> = {
      syncServices: (m) => {
        calls.push(["services", Object.fromEntries(m)]);
        return Promise.resolve();
      },
      syncEndpoints: (m) => {
        calls.push(["endpoints", Object.fromEntries(m)]);
      },
    };
    const { clock, syncer } = setup({ serviceHealth: stand as ServiceHealthServer });
    syncer.serviceHandlers.add?.(
      makeService("ns", "lb", {
        type: "LoadBalancer",
        externalTrafficPolicy: "Local",
        healthCheckNodePort: 32000,
        ports: [{ port: 80, nodePort: 30080 }],
      }),
    );
    syncer.serviceHandlers.add?.(makeService("ns", "plain"));
    syncer.endpointSliceHandlers.add?.(
      makeSlice("ns", "lb", "lb-1", [
        { ip: "10.0.0.1", nodeName: "node-1" },
        { ip: "10.0.0.2", nodeName: "node-1", ready: false },
        { ip: "10.0.0.3", nodeName: "node-2" },
      ]),
    );
    syncer.start();
    await clock.advance(0);
    assert.deepEqual(calls, [
      ["services", { "ns/lb": 32000 }],
      ["endpoints", { "ns/lb": 1 }],
    ]);
    await syncer.stop();
  });

  it("labels skip reasons by field path", () => {
    assert.equal(reasonLabel('spec.ports[3].protocol "X" is not TCP'), "spec.ports[].protocol");
    assert.equal(reasonLabel('"x" went wrong'), "other");
  });
});
