// Must-show 3: Services created, scaled (their EndpointSlices changed by the embedded API server's
// EndpointSlice controller as Pods come and go) and deleted through the embedded API server are
// answered correctly within one second each time. Polls with in-process queries, then confirms
// each state with the real dig.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Registry } from "prom-client";
import type { ApiServer } from "../../src/apiserver/api-server.ts";
import { apiRequest } from "../../src/apiserver/testing/api-client.ts";
import { startTestApiServer } from "../../src/apiserver/testing/test-api-server.ts";
import { startDnsServer, type DnsServer } from "../../src/dns/dns-server.ts";
import { askUdp, type UdpReply } from "../../src/dns/testing/ask-udp.ts";
import { answerData, dig, pollUntil } from "../../src/dns/testing/dig.ts";
import { answerData as recordData } from "../../src/dns/testing/reply-fields.ts";
import { loadKubeConfig } from "../../src/sources/kube-config.ts";
import { silentLogger } from "../../src/sys/logger.ts";
import { missingRequirement, suiteSkip } from "../support/requirements.ts";

const requirement = missingRequirement({ commands: ["dig"] });
/** The bound the issue sets from an API change to a correct answer. */
const withinMs = 1000;

describe("dns: following the embedded API server", suiteSkip(requirement), () => {
  let api: ApiServer;
  let server: DnsServer;
  const registry = new Registry();

  const call = async (
    method: string,
    path: string,
    body?: unknown,
    contentType?: string,
  ): Promise<unknown> => {
    const r = await apiRequest(api.url, method, path, {
      ...(body === undefined ? {} : { body }),
      ...(contentType === undefined ? {} : { contentType }),
    });
    assert.ok(r.status >= 200 && r.status < 300, `${method} ${path}: HTTP ${r.status} ${r.text}`);
    return r.body;
  };

  /** A Pod the way a kubelet would report it: created, then Running and Ready with an IP. */
  const startPod = async (name: string, app: string, ip: string): Promise<void> => {
    await call("POST", "/api/v1/namespaces/default/pods", {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name, namespace: "default", labels: { app } },
      spec: {
        nodeName: "node-a",
        containers: [{ name: "app", image: "nginx", ports: [{ name: "http", containerPort: 8080 }] }],
      },
    });
    await call(
      "PATCH",
      `/api/v1/namespaces/default/pods/${name}/status`,
      {
        status: {
          phase: "Running",
          podIP: ip,
          podIPs: [{ ip }],
          conditions: [{ type: "Ready", status: "True" }],
        },
      },
      "application/merge-patch+json",
    );
  };

  const ask = (name: string, type: "A" | "SRV" = "A"): Promise<UdpReply> =>
    askUdp("127.0.0.1", server.port, name, type, 500);
  const addresses = (r: UdpReply): string[] =>
    (r.packet?.answers ?? [])
      .filter((a) => a.type === "A")
      .map((a) => String(recordData(a)))
      .sort();

  /** Waits (polling) until `name` answers exactly `ips` (NXDOMAIN for none); asserts the bound. */
  const expectWithin = async (name: string, ips: readonly string[], what: string): Promise<void> => {
    const want = [...ips].sort();
    const r = await pollUntil(
      () => ask(name),
      (reply) =>
        want.length === 0
          ? reply.rcode === "NXDOMAIN"
          : reply.rcode === "NOERROR" && addresses(reply).join() === want.join(),
      withinMs,
      10,
    );
    assert.ok(
      r.ok,
      `${what}: ${name} answered ${r.value.rcode} ${addresses(r.value).join(",")} after ${r.elapsedMs} ms, want ${want.join(",") || "NXDOMAIN"}`,
    );
    // The real client agrees.
    const d = await dig("127.0.0.1", server.port, [name, "A"]);
    if (want.length === 0) assert.equal(d.status, "NXDOMAIN", d.output);
    else assert.deepEqual(answerData(d, "A"), want, d.output);
  };

  before(async () => {
    if (requirement !== undefined) throw new Error(requirement);
    api = await startTestApiServer({ serviceClusterIPRange: "10.97.0.0/16" });
    server = await startDnsServer({
      kubeConfig: loadKubeConfig({ kubeconfig: "", master: api.url }),
      bindAddress: "127.0.0.1:0",
      clusterDomain: "cluster.local",
      ttlSeconds: 5,
      upstreams: ["127.0.0.1:9"],
      pods: "disabled",
      endpointPodNames: false,
      externalNameIPs: false,
      logger: silentLogger(),
      metrics: registry,
    });
    const synced = await pollUntil(
      () => ask("kubernetes.default.svc.cluster.local"),
      (r) => r.rcode !== "SERVFAIL",
      10_000,
    );
    assert.ok(synced.ok, "the DNS informers sync against the embedded API server");
  });
  after(async () => {
    await server?.close();
    await api?.close();
  });

  it("answers a ClusterIP Service within one second of its creation and NXDOMAIN within one second of its deletion", async () => {
    const created = (await call("POST", "/api/v1/namespaces/default/services", {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "web", namespace: "default" },
      spec: { selector: { app: "web" }, ports: [{ name: "http", port: 80, targetPort: 8080 }] },
    })) as { spec: { clusterIP: string } };
    const ip = created.spec.clusterIP;
    assert.match(ip, /^10\.97\./);
    await expectWithin("web.default.svc.cluster.local", [ip], "created");
    const srv = await dig("127.0.0.1", server.port, ["_http._tcp.web.default.svc.cluster.local", "SRV"]);
    assert.deepEqual(answerData(srv), ["0 100 80 web.default.svc.cluster.local."]);
    await call("DELETE", "/api/v1/namespaces/default/services/web");
    await expectWithin("web.default.svc.cluster.local", [], "deleted");
  });

  it("follows a headless Service as it is scaled up and down, within one second each time", async () => {
    await call("POST", "/api/v1/namespaces/default/services", {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "db", namespace: "default" },
      spec: {
        clusterIP: "None",
        selector: { app: "db" },
        ports: [{ name: "http", port: 80, targetPort: "http" }],
      },
    });
    // No ready endpoints yet: NXDOMAIN, as the spec says.
    await expectWithin("db.default.svc.cluster.local", [], "created without Pods");
    await startPod("db-1", "db", "10.244.0.11");
    await expectWithin("db.default.svc.cluster.local", ["10.244.0.11"], "one Pod");
    await startPod("db-2", "db", "10.244.0.12");
    await startPod("db-3", "db", "10.244.0.13");
    await expectWithin(
      "db.default.svc.cluster.local",
      ["10.244.0.11", "10.244.0.12", "10.244.0.13"],
      "scaled to 3",
    );
    await expectWithin("10-244-0-12.db.default.svc.cluster.local", ["10.244.0.12"], "per-endpoint name");
    const srv = await dig("127.0.0.1", server.port, ["_http._tcp.db.default.svc.cluster.local", "SRV"]);
    assert.equal(srv.answer.length, 3, srv.output);
    assert.ok(
      srv.answer.every((r) => / 8080 10-244-0-1[123]\.db\.default\.svc\.cluster\.local\.$/.test(r.data)),
      srv.output,
    );
    await call("DELETE", "/api/v1/namespaces/default/pods/db-2");
    await call("DELETE", "/api/v1/namespaces/default/pods/db-3");
    await expectWithin("db.default.svc.cluster.local", ["10.244.0.11"], "scaled to 1");
    await expectWithin("10-244-0-12.db.default.svc.cluster.local", [], "removed endpoint's name");
    await call("DELETE", "/api/v1/namespaces/default/services/db");
    await expectWithin("db.default.svc.cluster.local", [], "deleted");
    await expectWithin("10-244-0-11.db.default.svc.cluster.local", [], "deleted Service's endpoint name");
  });

  it("records the time from API change to answer (dns_programming_duration_seconds)", async () => {
    const text = await registry.metrics();
    const count = Number(
      /kproxy_dns_programming_duration_seconds_count\{service_kind="headless"\} (\d+)/.exec(text)?.[1] ?? 0,
    );
    assert.ok(
      count > 0,
      text
        .split("\n")
        .filter((l) => l.includes("programming"))
        .join("\n"),
    );
  });
});
