// The userspace mode driven through the embedded API server (runProxy, as `kproxy run` does):
// endpoints added and removed through the API are used and abandoned within one sync, a
// long-lived connection to a removed endpoint keeps working, and a LoadBalancer with
// externalTrafficPolicy Local gets its health-check node port (served by the runtime).
import assert from "node:assert/strict";
import { connect } from "node:net";
import { get } from "node:http";
import { after, before, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { CoreV1Api, DiscoveryV1Api, type V1EndpointSlice, type V1Service } from "@kubernetes/client-node";
import { defaultProxyConfig } from "../../src/config/defaults.ts";
import type { ProxyConfig } from "../../src/config/proxy-config.ts";
import { runProxy, type RunningProxy } from "../../src/cli/run-proxy.ts";
import { fetchName, startTcpBackend, type TcpBackend } from "../../src/proxy/userspace/testing/fixtures.ts";
import { loadKubeConfig } from "../../src/sources/kube-config.ts";
import { silentLogger } from "../../src/sys/logger.ts";

// This file's addresses: services 127.72.0.0/16, LB IPs 127.73.0.0/24, backends 127.74.0.x.
const config: ProxyConfig = {
  ...defaultProxyConfig,
  mode: "userspace",
  hostnameOverride: "node-a",
  nodeIPs: ["127.0.0.1"],
  nodePortAddresses: ["127.0.0.0/8"],
  healthzBindAddress: "",
  metricsBindAddress: "",
  userspace: { ...defaultProxyConfig.userspace, minSyncPeriodMs: 100 },
  apiserver: {
    ...defaultProxyConfig.apiserver,
    listen: "127.0.0.1:0",
    serviceClusterIPRange: "127.72.0.0/16",
    loadBalancerIPRange: "127.73.0.0/24",
  },
};

function slice(
  name: string,
  service: string,
  backends: readonly TcpBackend[],
  nodeName = "node-a",
): V1EndpointSlice {
  return {
    apiVersion: "discovery.k8s.io/v1",
    kind: "EndpointSlice",
    metadata: { name, namespace: "default", labels: { "kubernetes.io/service-name": service } },
    addressType: "IPv4",
    ports: [{ name: "", port: backends[0]?.port ?? 1, protocol: "TCP" }],
    endpoints: backends.map((b) => ({ addresses: [b.ip], conditions: { ready: true }, nodeName })),
  };
}

async function until(what: string, check: () => Promise<boolean>, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    await sleep(50);
  }
  throw new Error(`Timed out after ${ms} ms waiting until ${what}`);
}

function httpStatus(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    get(url, { agent: false }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    }).on("error", reject);
  });
}

describe("userspace mode through the API server", () => {
  let running: RunningProxy | undefined;
  let core: CoreV1Api;
  let discovery: DiscoveryV1Api;
  const backends: TcpBackend[] = [];

  before(async () => {
    // All backends share one port so that one EndpointSlice can list them.
    const first = await startTcpBackend("b1", "127.74.0.1");
    backends.push(first);
    for (const i of [2, 3, 4]) backends.push(await startTcpBackend(`b${i}`, `127.74.0.${i}`, first.port));
    running = await runProxy(config, { logger: silentLogger() });
    const url = running.apiServer?.url ?? "";
    const kc = loadKubeConfig({ kubeconfig: "", master: url });
    core = kc.makeApiClient(CoreV1Api);
    discovery = kc.makeApiClient(DiscoveryV1Api);
  });

  after(async () => {
    await running?.close();
    for (const b of backends) await b.close();
  });

  it("uses added endpoints and abandons removed ones at the next sync; an open connection keeps working", async () => {
    const svc: V1Service = await core.createNamespacedService({
      namespace: "default",
      body: { metadata: { name: "scale" }, spec: { ports: [{ port: 8080, protocol: "TCP" }] } },
    });
    const ip = svc.spec?.clusterIP ?? "";
    assert.match(ip, /^127\.72\./);
    await discovery.createNamespacedEndpointSlice({
      namespace: "default",
      body: slice("scale-1", "scale", backends.slice(0, 2)),
    });
    await until("both endpoints answer", async () => (await names(ip, 8080, 4)).size === 2);
    const long = connect({ host: ip, port: 8080 });
    long.setEncoding("utf8");
    let received = "";
    long.on("data", (d: string) => (received += d));
    await until("the long-lived connection is open", () => Promise.resolve(received.includes("\n")));
    const longBackend = received.trim();

    // Scale: replace the endpoints with b3 and b4.
    await discovery.replaceNamespacedEndpointSlice({
      name: "scale-1",
      namespace: "default",
      body: slice("scale-1", "scale", backends.slice(2)),
    });
    await until("only the new endpoints answer", async () => {
      const seen = await names(ip, 8080, 4);
      return seen.size === 2 && seen.has("b3") && seen.has("b4");
    });
    long.write("ping\n");
    await until("the old connection still echoes", () => Promise.resolve(received.endsWith("ping\n")));
    assert.ok(["b1", "b2"].includes(longBackend));
    long.destroy();
  });

  it("LoadBalancer with externalTrafficPolicy Local: relayed on its LB IP, health check 200 with a local endpoint, 503 without", async () => {
    const svc: V1Service = await core.createNamespacedService({
      namespace: "default",
      body: {
        metadata: { name: "local-lb" },
        spec: {
          type: "LoadBalancer",
          externalTrafficPolicy: "Local",
          ports: [{ port: 8081, protocol: "TCP" }],
        },
      },
    });
    const hc = svc.spec?.healthCheckNodePort ?? 0;
    const lbIP = svc.status?.loadBalancer?.ingress?.[0]?.ip ?? "";
    assert.ok(hc > 0, "a health-check node port is allocated");
    assert.match(lbIP, /^127\.73\.0\./);
    await discovery.createNamespacedEndpointSlice({
      namespace: "default",
      body: slice("local-lb-1", "local-lb", backends.slice(0, 1)),
    });
    await until("the LB IP answers", async () => (await fetchName(lbIP, 8081)) === "b1");
    await until(
      "the health check reports a local endpoint",
      async () => (await httpStatus(`http://127.0.0.1:${hc}/`)) === 200,
    );
    await discovery.replaceNamespacedEndpointSlice({
      name: "local-lb-1",
      namespace: "default",
      body: slice("local-lb-1", "local-lb", backends.slice(0, 1), "node-b"),
    });
    await until(
      "the health check reports no local endpoint",
      async () => (await httpStatus(`http://127.0.0.1:${hc}/`)) === 503,
    );
  });
});

async function names(ip: string, port: number, n: number): Promise<Set<string>> {
  const out = new Set<string>();
  for (let i = 0; i < n; i++) out.add(await fetchName(ip, port));
  return out;
}
