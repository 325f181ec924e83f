// The embedded API server's EndpointSlice controller: slices follow Pods that start or stop
// matching a Service, become unready or terminate; named target ports resolve per Pod; zones come
// from Nodes; at most 100 endpoints per slice; selector-less Services keep their users' slices.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { ApiServer } from "../../src/apiserver/api-server.ts";
import { apiRequest } from "../../src/apiserver/testing/api-client.ts";
import { startTestApiServer } from "../../src/apiserver/testing/test-api-server.ts";

/** Objects as the server returns them; the assertions say what they expect of them. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = Record<string, any>;

const ns = "/api/v1/namespaces/default";
const slicesPath = "/apis/discovery.k8s.io/v1/namespaces/default/endpointslices";

describe("EndpointSlice controller", () => {
  let server: ApiServer;
  const req = (method: string, path: string, body?: unknown, contentType?: string) =>
    apiRequest<Json>(server.url, method, path, {
      ...(body !== undefined ? { body } : {}),
      ...(contentType ? { contentType } : {}),
    });
  const mergePatch = (path: string, body: unknown) =>
    req("PATCH", path, body, "application/merge-patch+json");

  /** Creates a Pod and, as a kubelet would, writes its status (IP and readiness). */
  const makePod = async (
    name: string,
    options: {
      labels?: Record<string, string>;
      ip: string;
      ready?: boolean;
      node?: string;
      namedPort?: number;
    },
  ): Promise<void> => {
    const ports = options.namedPort === undefined ? [] : [{ name: "http", containerPort: options.namedPort }];
    const created = await req("POST", `${ns}/pods`, {
      metadata: { name, labels: options.labels ?? { app: "web" } },
      spec: { nodeName: options.node ?? "n1", containers: [{ name: "c", image: "web", ports }] },
    });
    assert.equal(created.status, 201, created.text);
    const status = await mergePatch(`${ns}/pods/${name}/status`, {
      status: {
        phase: "Running",
        podIP: options.ip,
        podIPs: [{ ip: options.ip }],
        conditions: [{ type: "Ready", status: options.ready === false ? "False" : "True" }],
      },
    });
    assert.equal(status.status, 200, status.text);
  };

  /** The slices of a Service, polled until `check` accepts them. */
  const slicesOf = async (service: string, check: (slices: Json[]) => boolean): Promise<Json[]> => {
    const deadline = Date.now() + 5000;
    let slices: Json[] = [];
    while (Date.now() < deadline) {
      const res = await req("GET", `${slicesPath}?labelSelector=kubernetes.io%2Fservice-name%3D${service}`);
      slices = res.body["items"] as Json[];
      if (check(slices)) return slices;
      await new Promise((r) => setTimeout(r, 30));
    }
    assert.fail(
      `the slices of ${service} never reached the expected state; last seen:\n${JSON.stringify(slices, null, 1)}`,
    );
  };
  const endpoints = (slices: Json[]): Json[] => slices.flatMap((s) => s["endpoints"] as Json[]);
  const byIP = (slices: Json[], ip: string): Json | undefined =>
    endpoints(slices).find((e) => e["addresses"][0] === ip);

  before(async () => {
    server = await startTestApiServer();
    await req("POST", "/api/v1/nodes", {
      metadata: { name: "n1", labels: { "topology.kubernetes.io/zone": "zone-a" } },
    });
    await req("POST", `${ns}/services`, {
      metadata: { name: "web", labels: { team: "blue" } },
      spec: {
        selector: { app: "web" },
        ports: [
          { name: "http", port: 80, targetPort: "http" },
          { name: "metrics", port: 9090, targetPort: 9090 },
        ],
      },
    });
  });
  after(() => server.close());

  it("keeps a placeholder slice for a selector that matches nothing", async () => {
    const slices = await slicesOf("web", (s) => s.length === 1);
    assert.deepEqual(slices[0]?.["endpoints"], []);
  });

  it("lists a matching Pod with its node, zone, target and resolved named port", async () => {
    await makePod("p1", { ip: "10.1.0.1", namedPort: 8080 });
    const slices = await slicesOf("web", (s) => byIP(s, "10.1.0.1") !== undefined);
    assert.equal(slices.length, 1);
    const slice = slices[0] ?? {};
    assert.equal(slice["addressType"], "IPv4");
    assert.equal(
      slice["metadata"].labels["endpointslice.kubernetes.io/managed-by"],
      "endpointslice-controller.kproxy.io",
    );
    assert.equal(slice["metadata"].labels["team"], "blue", "the Service's labels are copied");
    assert.equal(slice["metadata"].ownerReferences[0].kind, "Service");
    assert.equal(slice["metadata"].ownerReferences[0].name, "web");
    assert.deepEqual(slice["ports"], [
      { name: "http", port: 8080, protocol: "TCP" },
      { name: "metrics", port: 9090, protocol: "TCP" },
    ]);
    const ep = byIP(slices, "10.1.0.1") ?? {};
    assert.deepEqual(ep["conditions"], { ready: true, serving: true, terminating: false });
    assert.equal(ep["nodeName"], "n1");
    assert.equal(ep["zone"], "zone-a");
    assert.deepEqual(ep["targetRef"], {
      kind: "Pod",
      namespace: "default",
      name: "p1",
      uid: ep["targetRef"].uid,
    });
  });

  it("puts a Pod without the named port in a slice of the ports it has", async () => {
    await makePod("p2", { ip: "10.1.0.2" });
    const slices = await slicesOf("web", (s) => byIP(s, "10.1.0.2") !== undefined);
    const withP2 = slices.find((s) => byIP([s], "10.1.0.2"));
    assert.deepEqual(withP2?.["ports"], [{ name: "metrics", port: 9090, protocol: "TCP" }]);
    assert.equal(slices.length, 2);
  });

  it("follows Pods that start and stop matching", async () => {
    await makePod("p3", { labels: { app: "other" }, ip: "10.1.0.3", namedPort: 8080 });
    await mergePatch(`${ns}/pods/p3`, { metadata: { labels: { app: "web" } } });
    await slicesOf("web", (s) => byIP(s, "10.1.0.3") !== undefined);
    await mergePatch(`${ns}/pods/p1`, { metadata: { labels: { app: "gone" } } });
    await slicesOf("web", (s) => byIP(s, "10.1.0.1") === undefined && byIP(s, "10.1.0.3") !== undefined);
  });

  it("marks an unready Pod not ready and not serving", async () => {
    await mergePatch(`${ns}/pods/p2/status`, {
      status: { conditions: [{ type: "Ready", status: "False" }] },
    });
    const slices = await slicesOf("web", (s) => byIP(s, "10.1.0.2")?.["conditions"].ready === false);
    assert.deepEqual(byIP(slices, "10.1.0.2")?.["conditions"], {
      ready: false,
      serving: false,
      terminating: false,
    });
  });

  it("marks a terminating Pod terminating, still serving, and drops it when it is gone", async () => {
    const deleting = await req("DELETE", `${ns}/pods/p3?gracePeriodSeconds=1`);
    assert.equal(deleting.status, 200);
    const slices = await slicesOf("web", (s) => byIP(s, "10.1.0.3")?.["conditions"].terminating === true);
    assert.deepEqual(byIP(slices, "10.1.0.3")?.["conditions"], {
      ready: false,
      serving: true,
      terminating: true,
    });
    await slicesOf("web", (s) => byIP(s, "10.1.0.3") === undefined);
  });

  it("follows a Node's zone", async () => {
    await makePod("p4", { ip: "10.1.0.4", namedPort: 8080 });
    await mergePatch("/api/v1/nodes/n1", {
      metadata: { labels: { "topology.kubernetes.io/zone": "zone-b" } },
    });
    await slicesOf(
      "web",
      (s) => byIP(s, "10.1.0.4")?.["zone"] === "zone-b" && byIP(s, "10.1.0.2")?.["zone"] === "zone-b",
    );
  });

  it("puts at most 100 endpoints in a slice", async () => {
    await req("POST", `${ns}/services`, {
      metadata: { name: "big" },
      spec: { selector: { app: "big" }, ports: [{ port: 80 }] },
    });
    await Promise.all(
      Array.from({ length: 150 }, (_, i) =>
        makePod(`big-${i}`, { labels: { app: "big" }, ip: `10.2.${i >> 8}.${i & 255}` }),
      ),
    );
    const slices = await slicesOf("big", (s) => endpoints(s).length === 150);
    assert.ok(slices.length >= 2);
    assert.ok(slices.every((s) => (s["endpoints"] as Json[]).length <= 100));
    assert.equal(new Set(endpoints(slices).map((e) => e["addresses"][0])).size, 150);
  });

  it("labels a headless Service's slices and removes the slices of a deleted Service", async () => {
    await req("POST", `${ns}/services`, {
      metadata: { name: "hl" },
      spec: { clusterIP: "None", selector: { app: "web" }, ports: [{ port: 80 }] },
    });
    const slices = await slicesOf("hl", (s) => s.length > 0 && endpoints(s).length > 0);
    assert.equal(slices[0]?.["metadata"].labels["service.kubernetes.io/headless"], "");
    await req("DELETE", `${ns}/services/hl`);
    await slicesOf("hl", (s) => s.length === 0);
  });

  it("leaves the slices of a Service without a selector to its users", async () => {
    await req("POST", `${ns}/services`, { metadata: { name: "manual" }, spec: { ports: [{ port: 80 }] } });
    const slice = await req("POST", slicesPath, {
      metadata: { name: "manual-1", labels: { "kubernetes.io/service-name": "manual" } },
      addressType: "IPv4",
      ports: [{ port: 8080 }],
      endpoints: [{ addresses: ["10.3.0.1"] }],
    });
    assert.equal(slice.status, 201, slice.text);
    await new Promise((r) => setTimeout(r, 100));
    const slices = await slicesOf("manual", (s) => s.length === 1);
    assert.equal(slices[0]?.["metadata"].name, "manual-1");
    assert.equal(slices[0]?.["metadata"].resourceVersion, slice.body["metadata"].resourceVersion);
  });
});
