import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { KubernetesObject } from "@kubernetes/client-node";
import { startApiServer, type ApiServer } from "../apiserver/api-server.ts";
import { silentLogger } from "../sys/logger.ts";
import { loadKubeConfig } from "./kube-config.ts";
import { createProxySources, labelHeadless, type ProxySources } from "./proxy-sources.ts";

/** Every event the sources delivered, as `verb kind namespace/name`. */
function recorder(kind: string, events: string[]) {
  const key = (o: KubernetesObject): string =>
    `${kind} ${o.metadata?.namespace ?? ""}/${o.metadata?.name ?? ""}`;
  return {
    add: (o: KubernetesObject) => events.push(`add ${key(o)}`),
    update: (_p: KubernetesObject, o: KubernetesObject) => events.push(`update ${key(o)}`),
    delete: (o: KubernetesObject) => events.push(`delete ${key(o)}`),
  };
}

async function until(test: () => boolean, what: string): Promise<void> {
  for (let i = 0; !test(); i++) {
    assert.ok(i < 200, `timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe("createProxySources against the embedded API server", () => {
  let server: ApiServer;
  let sources: ProxySources;
  const events: string[] = [];

  async function api(method: string, path: string, body?: unknown): Promise<void> {
    const res = await fetch(`${server.url}${path}`, {
      method,
      headers: { "Content-Type": method === "PATCH" ? "application/merge-patch+json" : "application/json" },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    assert.ok(res.ok, `${method} ${path}: ${res.status} ${await res.text()}`);
  }
  const svc = (name: string, labels: Record<string, string> = {}) => ({
    apiVersion: "v1",
    kind: "Service",
    metadata: { name, namespace: "default", labels },
    spec: { ports: [{ port: 80 }] },
  });
  const slice = (name: string, labels: Record<string, string>) => ({
    apiVersion: "discovery.k8s.io/v1",
    kind: "EndpointSlice",
    metadata: { name, namespace: "default", labels: { "kubernetes.io/service-name": "a", ...labels } },
    addressType: "IPv4",
    ports: [{ port: 8080 }],
    endpoints: [{ addresses: ["10.0.0.1"] }],
  });

  before(async () => {
    server = await startApiServer({
      listen: "127.0.0.1:0",
      dataDir: "",
      serviceClusterIPRange: "10.96.0.0/12",
      serviceNodePortRange: "30000-32767",
      loadBalancerIPRange: "",
      logger: silentLogger(),
    });
    await api("POST", "/api/v1/namespaces/default/services", svc("before-start"));
    await api("POST", "/api/v1/nodes", { apiVersion: "v1", kind: "Node", metadata: { name: "kp-node-a" } });
    await api("POST", "/api/v1/nodes", { apiVersion: "v1", kind: "Node", metadata: { name: "kp-node-b" } });
    sources = createProxySources({
      kubeConfig: loadKubeConfig({ kubeconfig: "", master: server.url }),
      logger: silentLogger(),
      nodeName: "kp-node-a",
      services: recorder("Service", events),
      endpointSlices: recorder("EndpointSlice", events),
      node: recorder("Node", events),
    });
  });
  after(async () => {
    sources.stop();
    await server.close();
  });

  it("delivers the first full list before start() resolves", async () => {
    await sources.start();
    assert.equal(sources.services.hasSynced(), true);
    assert.equal(sources.endpointSlices.hasSynced(), true);
    assert.equal(sources.node?.hasSynced(), true);
    assert.ok(events.includes("add Service default/before-start"));
    assert.ok(events.includes("add Node /kp-node-a"));
  });

  it("watches only this node's Node", async () => {
    await api("PATCH", "/api/v1/nodes/kp-node-b", { metadata: { labels: { x: "1" } } });
    await api("PATCH", "/api/v1/nodes/kp-node-a", { metadata: { labels: { x: "1" } } });
    await until(() => events.includes("update Node /kp-node-a"), "the node update");
    assert.equal(events.filter((e) => e.includes("kp-node-b")).length, 0);
  });

  it("sees creates, updates and deletes, skipping other proxies' Services and headless slices", async () => {
    await api(
      "POST",
      "/api/v1/namespaces/default/services",
      svc("other-proxy", { "service.kubernetes.io/service-proxy-name": "x" }),
    );
    await api(
      "POST",
      "/apis/discovery.k8s.io/v1/namespaces/default/endpointslices",
      slice("headless-1", { [labelHeadless]: "" }),
    );
    await api("POST", "/api/v1/namespaces/default/services", svc("a"));
    await api("POST", "/apis/discovery.k8s.io/v1/namespaces/default/endpointslices", slice("a-1", {}));
    await api("PATCH", "/api/v1/namespaces/default/services/a", { metadata: { labels: { changed: "yes" } } });
    await api("DELETE", "/apis/discovery.k8s.io/v1/namespaces/default/endpointslices/a-1");
    await until(() => events.includes("delete EndpointSlice default/a-1"), "the slice deletion");
    await until(() => events.includes("update Service default/a"), "the service update");
    assert.ok(events.includes("add Service default/a"));
    assert.ok(events.includes("add EndpointSlice default/a-1"));
    assert.equal(events.filter((e) => e.includes("other-proxy") || e.includes("headless-1")).length, 0);
    assert.deepEqual(
      sources.services
        .list()
        .map((s) => s.metadata?.name)
        .sort(),
      ["a", "before-start"],
    );
  });
});
