import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { createProxyMetrics } from "../metrics/proxy-metrics.ts";
import { ManualClock } from "../proxy/sync/manual-clock.ts";
import { startHealthzServer, type HttpServerHandle } from "./healthz-server.ts";
import { ProxierHealth, toBeDeletedTaint } from "./proxier-health.ts";

describe("/healthz and /livez", () => {
  const clock = new ManualClock(Date.parse("2026-03-01T12:00:00Z"));
  const health = new ProxierHealth({ healthTimeoutMs: 60_000, clock });
  const metrics = createProxyMetrics({ processMetrics: false });
  let server: HttpServerHandle;

  before(async () => {
    server = await startHealthzServer("127.0.0.1:0", {
      health,
      counters: { healthz: metrics.healthzTotal, livez: metrics.livezTotal },
    });
  });
  after(() => server.close());

  async function get(
    path: string,
  ): Promise<{ status: number; body: Record<string, unknown>; headers: Headers }> {
    const res = await fetch(`http://${server.address}${path}`);
    return { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, unknown> };
  }

  it("is healthy while starting up, with upstream's JSON fields and headers", async () => {
    const h = await get("/healthz");
    assert.equal(h.status, 200);
    assert.equal(h.headers.get("content-type"), "application/json");
    assert.equal(h.headers.get("x-content-type-options"), "nosniff");
    assert.deepEqual(h.body, {
      lastUpdated: "2026-03-01T12:00:00.000Z",
      currentTime: "2026-03-01T12:00:00.000Z",
      nodeEligible: true,
    });
    const l = await get("/livez");
    assert.equal(l.status, 200);
    assert.deepEqual(Object.keys(l.body).sort(), ["currentTime", "lastUpdated"]);
  });

  it("stays healthy while a queued change is younger than the timeout, then fails until a sync", async () => {
    health.updated();
    await clock.advance(1000);
    health.queuedUpdate();
    await clock.advance(59_000);
    assert.equal((await get("/healthz")).status, 200);
    await clock.advance(1000);
    // A second queued change must not reset the clock of the oldest one.
    health.queuedUpdate();
    const h = await get("/healthz");
    assert.equal(h.status, 503);
    assert.equal(h.body["lastUpdated"], "2026-03-01T12:00:00.000Z");
    assert.equal(h.body["currentTime"], "2026-03-01T12:01:01.000Z");
    assert.equal((await get("/livez")).status, 503);
    health.updated();
    assert.equal((await get("/healthz")).status, 200);
    assert.equal((await get("/livez")).status, 200);
  });

  it("answers 503 on /healthz (but not /livez) while the node is being deleted or tainted for deletion", async () => {
    health.syncNode({ metadata: { name: "n", deletionTimestamp: new Date() } });
    const h = await get("/healthz");
    assert.equal(h.status, 503);
    assert.equal(h.body["nodeEligible"], false);
    assert.equal((await get("/livez")).status, 200);
    health.syncNode({
      metadata: { name: "n" },
      spec: { taints: [{ key: toBeDeletedTaint, effect: "NoSchedule" }] },
    });
    assert.equal((await get("/healthz")).status, 503);
    health.syncNode({ metadata: { name: "n" }, spec: { taints: [{ key: "other", effect: "NoSchedule" }] } });
    assert.equal((await get("/healthz")).status, 200);
    health.nodeDeleted();
    assert.equal((await get("/healthz")).status, 503);
    health.syncNode({ metadata: { name: "n" } });
  });

  it("counts answers by code and 404s other paths", async () => {
    const res = await fetch(`http://${server.address}/other`);
    assert.equal(res.status, 404);
    await res.text();
    const text = await metrics.registry.getSingleMetricAsString("kubeproxy_proxy_healthz_total");
    assert.match(text, /kubeproxy_proxy_healthz_total\{code="200"\} \d+/);
    assert.match(text, /kubeproxy_proxy_healthz_total\{code="503"\} \d+/);
  });
});
