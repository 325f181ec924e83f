import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { Writable } from "node:stream";
import { after, describe, it } from "node:test";
import { pino, type Logger } from "pino";
import { startApiServer } from "../../src/apiserver/api-server.ts";
import { runProxy, type RunningProxy } from "../../src/cli/run-proxy.ts";
import { defaultProxyConfig } from "../../src/config/defaults.ts";
import type { ProxyConfig } from "../../src/config/proxy-config.ts";
import type { SyncRequest } from "../../src/proxy/proxier.ts";
import { RecordingProxier } from "../../src/proxy/sync/recording-proxier.ts";
import { silentLogger } from "../../src/sys/logger.ts";
import { missingRequirement, skipUnlessAvailable } from "../support/requirements.ts";

const dir = mkdtempSync(join(tmpdir(), "kp-run-"));
const running: RunningProxy[] = [];
after(async () => {
  for (const r of running.splice(0)) await r.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A configuration for an in-process proxy: embedded server and HTTP servers on loopback port 0. */
function testConfig(o: Partial<ProxyConfig> & { dataDir?: string } = {}): ProxyConfig {
  const { dataDir = "", ...rest } = o;
  return {
    ...defaultProxyConfig,
    mode: "iptables",
    hostnameOverride: "kp-run-node",
    nodeIPs: ["192.0.2.10"],
    healthzBindAddress: "127.0.0.1:0",
    metricsBindAddress: "127.0.0.1:0",
    iptables: { ...defaultProxyConfig.iptables, minSyncPeriodMs: 0 },
    apiserver: { ...defaultProxyConfig.apiserver, listen: "127.0.0.1:0", dataDir },
    ...rest,
  };
}

/** A logger that keeps every record, to check what was logged. */
function recordingLogger(): { logger: Logger; records: Array<Record<string, unknown>> } {
  const records: Array<Record<string, unknown>> = [];
  const logger = pino(
    { level: "debug" },
    new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const line of chunk.toString().split("\n"))
          if (line) records.push(JSON.parse(line) as Record<string, unknown>);
        done();
      },
    }),
  );
  return { logger, records };
}

async function api(
  base: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<Record<string, unknown>> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { "Content-Type": "application/json" },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const json = (await res.json()) as Record<string, unknown>;
  assert.ok(res.ok, `${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

function service(name: string, port: number): Record<string, unknown> {
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: { name, namespace: "default" },
    spec: { ports: [{ name: "http", port, protocol: "TCP" }] },
  };
}

function serviceKeys(r: SyncRequest | undefined): string[] {
  return [...(r?.states[0]?.services.values() ?? [])].map((p) => p.serviceKey).sort();
}

describe("runProxy with the embedded API server", () => {
  it("skips a malformed Service written straight into the store, with a logged reason, and programs the others", async () => {
    const dataDir = join(dir, "malformed");
    // 1. Two valid Services, created through the API (validated and allocated).
    const server = await startApiServer({
      listen: "127.0.0.1:0",
      dataDir,
      serviceClusterIPRange: "10.96.0.0/12",
      serviceNodePortRange: "30000-32767",
      loadBalancerIPRange: "",
      logger: silentLogger(),
    });
    await api(server.url, "POST", "/api/v1/namespaces/default/services", service("good-a", 80));
    await api(server.url, "POST", "/api/v1/namespaces/default/services", service("good-b", 81));
    await server.close();

    // 2. A malformed one written into the SQLite store behind the server's back: port 0, which the
    //    API server would have refused.
    const db = new DatabaseSync(join(dataDir, "kproxy-apiserver.sqlite"));
    const row = db
      .prepare("SELECT resource, namespace, name, rv, json FROM objects WHERE name = 'good-a'")
      .get() as { resource: string; namespace: string; rv: number; json: string };
    const maxRv = (db.prepare("SELECT MAX(rv) AS rv FROM objects").get() as { rv: number }).rv;
    const broken = JSON.parse(row.json) as {
      metadata: Record<string, unknown>;
      spec: Record<string, unknown>;
    };
    broken.metadata = {
      ...broken.metadata,
      name: "broken",
      uid: "broken-uid",
      resourceVersion: String(maxRv + 1),
    };
    broken.spec = {
      ...broken.spec,
      clusterIP: "10.96.99.99",
      clusterIPs: ["10.96.99.99"],
      ports: [{ name: "http", port: 0, protocol: "TCP" }],
    };
    db.prepare("INSERT INTO objects (resource, namespace, name, rv, json) VALUES (?, ?, ?, ?, ?)").run(
      row.resource,
      row.namespace,
      "broken",
      maxRv + 1,
      JSON.stringify(broken),
    );
    db.prepare("UPDATE meta SET value = ? WHERE key = 'resourceVersion'").run(String(maxRv + 1));
    db.close();

    // 3. kproxy over the same data directory: the first sync has the two valid Services only.
    const proxier = new RecordingProxier();
    const { logger, records } = recordingLogger();
    const proxy = await runProxy(testConfig({ dataDir }), { logger, proxierFactory: proxier.factory() });
    running.push(proxy);
    const first = await proxier.waitFor(() => true);
    assert.equal(first.full, true);
    assert.deepEqual(serviceKeys(first), ["default/good-a", "default/good-b"]);
    const skipped = records.find((r) => r["object"] === "default/broken");
    assert.equal(skipped?.["reason"], "spec.ports[0].port 0 is not in 1-65535");
    assert.equal(skipped?.["level"], 40, "logged as a warning");
    const metrics = await (await fetch(`http://${proxy.metricsAddress}/metrics`)).text();
    assert.match(metrics, /kproxy_invalid_objects_total\{kind="Service",reason="spec.ports\[\].port"\} 1/);

    // 4. Later changes to the valid Services still sync.
    const base = proxy.apiServer?.url ?? "";
    await api(base, "POST", "/api/v1/namespaces/default/services", service("good-c", 82));
    const later = await proxier.waitFor((r) => r.changedServices.has("default/good-c"));
    assert.deepEqual(serviceKeys(later), ["default/good-a", "default/good-b", "default/good-c"]);
    await proxy.close();
  });

  it("serves /healthz, /livez and /metrics with upstream's names and semantics", async () => {
    const proxier = new RecordingProxier();
    const proxy = await runProxy(testConfig(), { logger: silentLogger(), proxierFactory: proxier.factory() });
    running.push(proxy);
    assert.ok(proxy.healthzAddress && proxy.metricsAddress);
    const healthz = await fetch(`http://${proxy.healthzAddress}/healthz`);
    assert.equal(healthz.status, 200);
    assert.equal(healthz.headers.get("x-content-type-options"), "nosniff");
    const body = (await healthz.json()) as Record<string, unknown>;
    assert.deepEqual(Object.keys(body).sort(), ["currentTime", "lastUpdated", "nodeEligible"]);
    assert.equal(body["nodeEligible"], true);
    const livez = await fetch(`http://${proxy.healthzAddress}/livez`);
    assert.equal(livez.status, 200);
    await livez.text();

    // A Service change is counted, synced, and timestamps move.
    const base = proxy.apiServer?.url ?? "";
    await api(base, "POST", "/api/v1/namespaces/default/services", service("metered", 80));
    await proxier.waitFor((r) => r.changedServices.has("default/metered"));
    const text = await (await fetch(`http://${proxy.metricsAddress}/metrics`)).text();
    assert.match(text, /^kubeproxy_sync_proxy_rules_service_changes_total [1-9]/m);
    assert.match(text, /^kubeproxy_sync_proxy_rules_duration_seconds_count [2-9]/m);
    assert.match(text, /^kubeproxy_sync_proxy_rules_last_timestamp_seconds \d{10}/m);
    assert.match(text, /^kubeproxy_sync_proxy_rules_last_queued_timestamp_seconds \d{10}/m);
    assert.match(text, /^kubeproxy_network_programming_duration_seconds_count [1-9]/m);
    assert.match(text, /^process_cpu_user_seconds_total /m);
    assert.equal(await (await fetch(`http://${proxy.metricsAddress}/proxyMode`)).text(), "iptables");
    const mhealth = await fetch(`http://${proxy.metricsAddress}/healthz`);
    assert.equal(mhealth.status, 200);
    await mhealth.text();

    // Marking this node for deletion makes /healthz (not /livez) answer 503.
    const node = await api(base, "GET", "/api/v1/nodes/kp-run-node");
    const spec = (node["spec"] as Record<string, unknown> | undefined) ?? {};
    await api(base, "PUT", "/api/v1/nodes/kp-run-node", {
      ...node,
      spec: { ...spec, taints: [{ key: "ToBeDeletedByClusterAutoscaler", effect: "NoSchedule" }] },
    });
    for (let i = 0; ; i++) {
      const res = await fetch(`http://${proxy.healthzAddress}/healthz`);
      const b = (await res.json()) as Record<string, unknown>;
      if (res.status === 503) {
        assert.equal(b["nodeEligible"], false);
        break;
      }
      assert.ok(i < 100, "healthz never turned 503 for a node being deleted");
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const live = await fetch(`http://${proxy.healthzAddress}/livez`);
    assert.equal(live.status, 200);
    await live.text();
    await proxy.close();
  });

  it("registers a Node for itself with its node IPs, and refreshes them after a restart", async () => {
    const dataDir = join(dir, "node");
    for (const ip of ["192.0.2.77", "192.0.2.78"]) {
      const proxier = new RecordingProxier();
      const proxy = await runProxy(testConfig({ nodeIPs: [ip], dataDir }), {
        logger: silentLogger(),
        proxierFactory: proxier.factory(),
      });
      running.push(proxy);
      const node = await api(proxy.apiServer?.url ?? "", "GET", "/api/v1/nodes/kp-run-node");
      const addresses = (node["status"] as { addresses: Array<{ type: string; address: string }> }).addresses;
      assert.deepEqual(
        addresses.filter((a) => a.type === "InternalIP").map((a) => a.address),
        [ip],
      );
      const first = await proxier.waitFor(() => true);
      assert.deepEqual(first.states[0]?.node.nodeIPs, [ip]);
      assert.equal(first.states[0]?.node.name, "kp-run-node");
      await proxy.close();
    }
  });

  it("runs the cluster DNS server with dns.enabled, answering for the Services it proxies", async (t) => {
    if (skipUnlessAvailable(t, missingRequirement({ commands: ["dig"] }))) return;
    const proxier = new RecordingProxier();
    const proxy = await runProxy(
      testConfig({
        dns: {
          ...defaultProxyConfig.dns,
          enabled: true,
          bindAddress: "127.0.0.1:0",
          upstreams: ["127.0.0.1:9"],
        },
      }),
      { logger: silentLogger(), proxierFactory: proxier.factory() },
    );
    running.push(proxy);
    assert.ok(proxy.dnsAddress);
    const port = proxy.dnsAddress.split(":").at(-1) ?? "";
    const base = proxy.apiServer?.url ?? "";
    const created = await api(base, "POST", "/api/v1/namespaces/default/services", service("named", 80));
    const clusterIP = (created["spec"] as { clusterIP: string }).clusterIP;
    for (let i = 0; ; i++) {
      // dig runs asynchronously: the DNS server answers from this very process.
      const { stdout } = await promisify(execFile)("dig", [
        "@127.0.0.1",
        "-p",
        port,
        "+short",
        "+time=1",
        "+tries=1",
        "named.default.svc.cluster.local",
      ]).catch(() => ({ stdout: "" }));
      const answer = stdout.trim();
      if (answer === clusterIP) break;
      assert.ok(i < 50, `DNS never answered ${clusterIP} (last: ${JSON.stringify(answer)})`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await proxy.close();
  });

  it("applies --manifests to the embedded server and re-applies them when they change", async () => {
    const folder = join(dir, "manifests");
    mkdirSync(folder, { recursive: true });
    const file = join(folder, "web.yaml");
    const manifest = (port: number): string =>
      [
        "apiVersion: v1",
        "kind: Service",
        "metadata: { name: web, namespace: default }",
        `spec: { ports: [{ name: http, port: ${port}, protocol: TCP }] }`,
        "",
      ].join("\n");
    writeFileSync(file, manifest(80));
    const proxier = new RecordingProxier();
    const proxy = await runProxy(
      testConfig({
        apiserver: { ...defaultProxyConfig.apiserver, listen: "127.0.0.1:0", manifests: [folder] },
      }),
      { logger: silentLogger(), proxierFactory: proxier.factory() },
    );
    running.push(proxy);
    const port = (r: SyncRequest): number | undefined => r.states[0]?.services.get("default/web:http")?.port;
    await proxier.waitFor((r) => port(r) === 80);
    writeFileSync(file, manifest(8080));
    await proxier.waitFor((r) => port(r) === 8080);
    await proxy.close();
  });
});
