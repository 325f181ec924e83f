// Service IP and port allocation by the embedded API server: no ClusterIP or NodePort is ever
// handed out twice, requested values are honoured or refused with upstream's messages, and
// released values (delete, type change) are reusable.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { ApiServer } from "../../src/apiserver/api-server.ts";
import { apiRequest, type ApiResponse } from "../../src/apiserver/testing/api-client.ts";
import { startTestApiServer } from "../../src/apiserver/testing/test-api-server.ts";
import { cidrContains } from "../../src/model/ip.ts";

/** Objects as the server returns them; the assertions say what they expect of them. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = Record<string, any>;

const svcPath = "/api/v1/namespaces/default/services";

function svc(name: string, spec: Json = {}): Json {
  return { metadata: { name }, spec: { ports: [{ port: 80 }], ...spec } };
}

function causes(res: ApiResponse<Json>): string[] {
  return ((res.body["details"]?.causes ?? []) as Json[]).map((c) => `${c["field"]}: ${c["message"]}`);
}

describe("Service allocation", () => {
  let server: ApiServer;
  const create = (body: Json) => apiRequest<Json>(server.url, "POST", svcPath, { body });
  const remove = (name: string) => apiRequest<Json>(server.url, "DELETE", `${svcPath}/${name}`);
  const patch = (name: string, body: Json) =>
    apiRequest<Json>(server.url, "PATCH", `${svcPath}/${name}`, {
      body,
      contentType: "application/merge-patch+json",
    });

  before(async () => {
    server = await startTestApiServer({
      serviceClusterIPRange: "10.100.0.0/22",
      serviceNodePortRange: "31000-31999",
      loadBalancerIPRange: "192.0.2.0/28",
    });
  });
  after(() => server.close());

  it("never gives two of 300 concurrently created Services the same ClusterIP or NodePort", async () => {
    const types = ["ClusterIP", "NodePort", "LoadBalancer"];
    const results = await Promise.all(
      Array.from({ length: 300 }, (_, i) =>
        create(
          svc(`many-${i}`, {
            type: types[i % 3],
            ports: [
              { name: "a", port: 80 },
              { name: "b", port: 443 },
            ],
            ...(i % 3 === 2 ? { externalTrafficPolicy: "Local" } : {}),
          }),
        ),
      ),
    );
    const lb = results.filter((r) => r.body["spec"]?.type === "LoadBalancer");
    // The LoadBalancer pool (a /28: 14 addresses) runs out: those Services still get created.
    assert.ok(
      results.every((r) => r.status === 201),
      results.find((r) => r.status !== 201)?.text,
    );
    const ips = results.map((r) => r.body["spec"].clusterIP as string);
    assert.equal(new Set(ips).size, 300, "ClusterIPs are unique");
    assert.ok(
      ips.every((ip) => cidrContains("10.100.0.0/22", ip) && ip !== "10.100.0.0" && ip !== "10.100.3.255"),
    );
    const ports = results.flatMap((r) => [
      ...(r.body["spec"].ports as Json[]).map((p) => p["nodePort"] as number | undefined),
      r.body["spec"].healthCheckNodePort as number | undefined,
    ]);
    const nodePorts = ports.filter((p): p is number => p !== undefined);
    assert.equal(
      nodePorts.length,
      200 * 2 + 100,
      "two NodePorts per NodePort/LoadBalancer Service, plus health checks",
    );
    assert.equal(new Set(nodePorts).size, nodePorts.length, "NodePorts are unique");
    assert.ok(nodePorts.every((p) => p >= 31000 && p <= 31999));
    const ingress = lb.map((r) => r.body["status"]?.loadBalancer?.ingress?.[0]?.ip as string | undefined);
    const given = ingress.filter((ip): ip is string => ip !== undefined);
    assert.ok(given.length >= 1 && new Set(given).size === given.length, "LoadBalancer IPs are unique");
    assert.ok(given.every((ip) => cidrContains("192.0.2.0/28", ip)));
    await Promise.all(results.map((r) => remove(r.body["metadata"].name as string)));
  });

  it("honours a requested ClusterIP and NodePort, and refuses taken or out-of-range ones", async () => {
    const wanted = await create(
      svc("wanted", { type: "NodePort", clusterIP: "10.100.1.10", ports: [{ port: 80, nodePort: 31500 }] }),
    );
    assert.equal(wanted.status, 201, wanted.text);
    assert.equal(wanted.body["spec"].clusterIP, "10.100.1.10");
    assert.deepEqual(wanted.body["spec"].clusterIPs, ["10.100.1.10"]);
    assert.equal(wanted.body["spec"].ports[0].nodePort, 31500);

    const takenIP = await create(svc("taken-ip", { clusterIP: "10.100.1.10" }));
    assert.equal(takenIP.status, 422);
    assert.deepEqual(causes(takenIP), [
      'spec.clusterIPs: Invalid value: []string{"10.100.1.10"}: failed to allocate IP 10.100.1.10: provided IP is already allocated',
    ]);
    const outside = await create(svc("outside-ip", { clusterIP: "10.200.0.1" }));
    assert.equal(outside.status, 422);
    assert.match(
      causes(outside)[0] ?? "",
      /^spec\.clusterIPs: .*provided IP is not in the valid range\. The range of valid IPs is 10\.100\.0\.0\/22$/,
    );

    const takenPort = await create(
      svc("taken-port", { type: "NodePort", ports: [{ port: 80, nodePort: 31500 }] }),
    );
    assert.equal(takenPort.status, 422);
    assert.deepEqual(causes(takenPort), [
      "spec.ports[0].nodePort: Invalid value: 31500: provided port is already allocated",
    ]);
    const badPort = await create(
      svc("bad-port", { type: "NodePort", ports: [{ port: 80, nodePort: 30001 }] }),
    );
    assert.equal(badPort.status, 422);
    assert.match(
      causes(badPort)[0] ?? "",
      /provided port is not in the valid range\. The range of valid ports is 31000-31999/,
    );
    // A refused Service leaves nothing allocated behind it.
    const afterRefusal = await create(
      svc("after-refusal", { type: "NodePort", ports: [{ port: 80, nodePort: 31501 }] }),
    );
    assert.equal(afterRefusal.status, 201);
  });

  it("makes deleted ClusterIPs and NodePorts reusable", async () => {
    await remove("wanted");
    const again = await create(
      svc("wanted-again", {
        type: "NodePort",
        clusterIP: "10.100.1.10",
        ports: [{ port: 80, nodePort: 31500 }],
      }),
    );
    assert.equal(again.status, 201, again.text);
  });

  it("hands out every address of a small range, refuses when full, and reuses a freed one", async () => {
    const tiny = await startTestApiServer({
      serviceClusterIPRange: "10.9.0.0/29",
      serviceNodePortRange: "30000-30001",
    });
    try {
      const made: string[] = [];
      for (let i = 0; i < 6; i++) {
        const r = await apiRequest<Json>(tiny.url, "POST", svcPath, { body: svc(`t${i}`) });
        assert.equal(r.status, 201, r.text);
        made.push(r.body["spec"].clusterIP as string);
      }
      assert.deepEqual([...made].sort(), [
        "10.9.0.1",
        "10.9.0.2",
        "10.9.0.3",
        "10.9.0.4",
        "10.9.0.5",
        "10.9.0.6",
      ]);
      const full = await apiRequest<Json>(tiny.url, "POST", svcPath, { body: svc("t6") });
      assert.equal(full.status, 500);
      assert.match(full.body["message"], /range is full/);
      await apiRequest(tiny.url, "DELETE", `${svcPath}/t3`);
      const reused = await apiRequest<Json>(tiny.url, "POST", svcPath, { body: svc("t7") });
      assert.equal(reused.status, 201);
      assert.equal(reused.body["spec"].clusterIP, made[3]);
    } finally {
      await tiny.close();
    }
  });

  it("releases NodePorts on a change to ClusterIP and the ClusterIP on a change to ExternalName", async () => {
    const np = await create(svc("np", { type: "NodePort", ports: [{ port: 80, nodePort: 31600 }] }));
    assert.equal(np.status, 201);
    const toClusterIP = await patch("np", { spec: { type: "ClusterIP" } });
    assert.equal(toClusterIP.status, 200, toClusterIP.text);
    assert.equal(toClusterIP.body["spec"].ports[0].nodePort, undefined);
    const claim = await create(svc("np-claim", { type: "NodePort", ports: [{ port: 80, nodePort: 31600 }] }));
    assert.equal(claim.status, 201, "the released NodePort is free again");

    const ip = np.body["spec"].clusterIP as string;
    const toExternal = await patch("np", { spec: { type: "ExternalName", externalName: "example.com" } });
    assert.equal(toExternal.status, 200, toExternal.text);
    assert.equal(toExternal.body["spec"].clusterIP, undefined);
    const reuse = await create(svc("ip-claim", { clusterIP: ip }));
    assert.equal(reuse.status, 201, "the released ClusterIP is free again");
  });

  it("leaves a LoadBalancer pending when the pool is empty, and gives it the next freed IP", async () => {
    const small = await startTestApiServer({ loadBalancerIPRange: "198.51.100.0/30" });
    try {
      const make = (name: string) =>
        apiRequest<Json>(small.url, "POST", svcPath, { body: svc(name, { type: "LoadBalancer" }) });
      const ingressOf = async (name: string): Promise<unknown> =>
        (await apiRequest<Json>(small.url, "GET", `${svcPath}/${name}`)).body["status"]?.loadBalancer
          ?.ingress?.[0]?.ip;
      assert.equal((await make("lb1")).body["status"].loadBalancer.ingress[0].ip, "198.51.100.1");
      assert.equal((await make("lb2")).body["status"].loadBalancer.ingress[0].ip, "198.51.100.2");
      const third = await make("lb3");
      assert.equal(third.status, 201);
      assert.deepEqual(third.body["status"].loadBalancer, {}, "pending: no ingress yet");
      await apiRequest(small.url, "DELETE", `${svcPath}/lb1`);
      const deadline = Date.now() + 3000;
      while ((await ingressOf("lb3")) !== "198.51.100.1") {
        assert.ok(Date.now() < deadline, "the pending Service got the freed IP");
        await new Promise((r) => setTimeout(r, 20));
      }
    } finally {
      await small.close();
    }
  });

  it("keeps allocated values when an update leaves them out", async () => {
    const made = await create(svc("keep", { type: "NodePort", ports: [{ name: "http", port: 80 }] }));
    const body = {
      metadata: { name: "keep" },
      spec: { type: "NodePort", ports: [{ name: "http", port: 80 }] },
    };
    const put = await apiRequest<Json>(server.url, "PUT", `${svcPath}/keep`, { body });
    assert.equal(put.status, 200, put.text);
    assert.equal(put.body["spec"].clusterIP, made.body["spec"].clusterIP);
    assert.equal(put.body["spec"].ports[0].nodePort, made.body["spec"].ports[0].nodePort);
  });

  it("gives headless Services no ClusterIP, and LoadBalancer Local ones a health-check NodePort and an ingress IP", async () => {
    const headless = await create(svc("headless", { clusterIP: "None", selector: { app: "x" } }));
    assert.equal(headless.status, 201);
    assert.deepEqual(headless.body["spec"].clusterIPs, ["None"]);
    const lb = await create(svc("lb-local", { type: "LoadBalancer", externalTrafficPolicy: "Local" }));
    assert.equal(lb.status, 201, lb.text);
    const hc = lb.body["spec"].healthCheckNodePort as number;
    assert.ok(hc >= 31000 && hc <= 31999);
    assert.notEqual(hc, lb.body["spec"].ports[0].nodePort);
    assert.match(lb.body["status"].loadBalancer.ingress[0].ip, /^192\.0\.2\./);
    const toCluster = await patch("lb-local", { spec: { externalTrafficPolicy: "Cluster" } });
    assert.equal(
      toCluster.body["spec"].healthCheckNodePort,
      undefined,
      "Cluster policy needs no health check",
    );
    const toClusterIP = await patch("lb-local", { spec: { type: "ClusterIP" } });
    assert.equal(toClusterIP.status, 200, toClusterIP.text);
    assert.deepEqual(toClusterIP.body["status"].loadBalancer, {});
  });
});
