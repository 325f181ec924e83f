import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { ConformanceCase } from "./conformance-case.ts";
import { conformanceCases, modeRules, resolveCase, settingsGroups } from "./conformance-cases.ts";
import { conformanceFixtures, endpointSliceFor, sentinelService } from "./conformance-fixtures.ts";
import { conformanceTopology } from "./conformance-topology.ts";
import { parsePacketFlowTable, readPacketFlowTable } from "./packet-flow-table.ts";

const cases = conformanceCases();
const fixtures = conformanceFixtures(conformanceTopology);
const backends = new Set(conformanceTopology.pods.filter((p) => p.role === "backend").map((p) => p.name));
const clients = new Set([
  ...conformanceTopology.pods.map((p) => p.name),
  ...conformanceTopology.nodes.map((n) => n.name),
  conformanceTopology.external.name,
]);

describe("packet-flow table", () => {
  test("reads upstream's four sub-cases, 27 flows each, with their overrides applied", () => {
    const table = readPacketFlowTable();
    assert.deepEqual(
      table.map((s) => [s.name, s.rows.length, s.overridden.length, s.masqueradeAll, s.localDetector]),
      [
        ["base", 27, 0, false, true],
        ["no LocalTrafficDetector", 27, 8, false, false],
        ["masqueradeAll", 27, 3, true, true],
        ["masqueradeAll, no LocalTrafficDetector", 27, 5, true, false],
      ],
    );
    const noDetector = table[1]?.rows.find((r) => r.name === "pod to NodePort with eTP:Local");
    assert.deepEqual(noDetector?.output, ["10.180.0.2:80"]);
    const base = table[0]?.rows.find((r) => r.name === "external to LB with eTP:Local");
    assert.deepEqual(base, {
      name: "external to LB with eTP:Local",
      sourceIP: "203.0.113.2",
      destIP: "5.6.7.8",
      destPort: 80,
      output: ["10.180.0.2:80"],
      masq: false,
    });
  });

  test("rejects malformed rows and overrides of unknown rows", () => {
    assert.throws(() => parsePacketFlowTable('# ---- sub-case "base"\na | b | c\n'), /want 6 cells/);
    assert.throws(
      () => parsePacketFlowTable('# ---- sub-case "base"\nx | 1.1.1.1 | 2.2.2.2 | 80 | 3.3.3.3:80 | maybe\n'),
      /masq value "maybe"/,
    );
    assert.throws(
      () =>
        parsePacketFlowTable(
          '# ---- sub-case "base"\nx | 1.1.1.1 | 2.2.2.2 | 80 | 3.3.3.3:80 | true\n# ---- sub-case "other"\ny => masq true\n',
        ),
      /Cannot apply packet-flow override in sub-case "other": y => masq true/,
    );
    assert.throws(() => parsePacketFlowTable("x | y\n"), /before any sub-case/);
  });
});

describe("conformance cases", () => {
  test("names are unique", () => {
    const names = cases.map((c) => c.name);
    assert.deepEqual(
      names.filter((n, i) => names.indexOf(n) !== i),
      [],
    );
  });

  test("every case names a known client, Service, settings group and backend pods", () => {
    const groups = new Set(settingsGroups().map((g) => g.name));
    const services = new Set(fixtures.map((f) => f.key));
    for (const c of cases) {
      assert.ok(clients.has(c.from), `${c.name}: from ${c.from}`);
      assert.ok(services.has(c.service), `${c.name}: service ${c.service}`);
      assert.ok(groups.has(c.settings), `${c.name}: settings ${c.settings}`);
      for (const e of [c.expect, ...(c.then ?? []).map((s) => s.expect), ...Object.values(c.byMode ?? {})]) {
        if (e.kind === "answered") {
          assert.ok(e.backends.length > 0, c.name);
          for (const b of e.backends) assert.ok(backends.has(b), `${c.name}: backend ${b}`);
        }
      }
      for (const s of c.then ?? [])
        for (const p of s.setEndpoints) assert.ok(backends.has(p), `${c.name}: ${p}`);
      if (c.localPort !== undefined) assert.equal(c.protocol, "UDP", c.name);
      for (const reason of Object.values(c.unsupported ?? {})) assert.ok(reason.length > 20, c.name);
    }
  });

  test("covers what the issue lists", () => {
    const has = (pred: (c: ConformanceCase) => boolean, what: string): void =>
      assert.ok(cases.some(pred), `no case for ${what}`);
    const base = cases.filter((c) => c.settings === "base");
    for (const kind of ["ClusterIP", "NodePort", "externalIP", "LoadBalancer", "HealthCheckNodePort"])
      has((c) => c.to.kind === kind, kind);
    for (const from of ["n1-client", "n2-client", "node1", "node2", "external"])
      assert.ok(
        base.some((c) => c.from === from && c.to.kind === "ClusterIP"),
        `ClusterIP from ${from}`,
      );
    has(
      (c) => c.from === "n1-pod1" && c.expect.kind === "answered" && c.expect.backends.includes("n1-pod1"),
      "hairpin",
    );
    has((c) => c.expect.kind === "answered" && c.expect.sameBackend === true, "ClientIP affinity");
    has((c) => c.expect.kind === "refused", "refused");
    has((c) => c.expect.kind === "dropped", "dropped");
    has((c) => c.expect.kind === "http" && c.expect.status === 200, "health check 200");
    has((c) => c.expect.kind === "http" && c.expect.status === 503, "health check 503");
    has(
      (c) => c.protocol === "UDP" && (c.then?.length ?? 0) > 0 && c.localPort !== undefined,
      "UDP stale conntrack",
    );
    has((c) => (c.then?.length ?? 0) >= 3, "scale up and down");
    has((c) => c.service === "kp/lb-allow", "LoadBalancer source ranges");
    for (const g of settingsGroups())
      assert.equal(
        cases.filter((c) => c.settings === g.name && c.name.startsWith("upstream")).length,
        27,
        g.name,
      );
  });

  test("packet-flow rows map masquerading to the source the backend sees", () => {
    const row = (name: string): ConformanceCase | undefined =>
      cases.find((c) => c.name === `upstream packet flow [base]: ${name}`);
    assert.deepEqual(row("pod to ClusterIP")?.expect, {
      kind: "answered",
      backends: ["n1-pod1", "n2-pod1"],
      source: "client",
    });
    assert.equal(row("pod to ClusterIP")?.from, "n1-client");
    assert.deepEqual(row("external to NodePort with eTP:Local")?.expect, {
      kind: "answered",
      backends: ["n1-pod2"],
      source: "client",
    });
    assert.deepEqual(row("node to LB with iTP:Local")?.to, { kind: "LoadBalancer", address: "9.10.11.12" });
    assert.equal(row("node to NodePort with eTP:Local")?.service, "ns1/svc1");
  });

  test("per-mode exceptions resolve to a reason or to adjusted expectations, never to a silent skip", () => {
    const localhost = cases.find((c) => c.name.startsWith("NodePort on 127.0.0.1"));
    assert.ok(localhost);
    const nft = resolveCase(localhost, "nftables");
    assert.equal(nft.run, false);
    assert.equal(resolveCase(localhost, "iptables").run, true);

    const podToCluster = cases.find((c) => c.name === "ClusterIP from a pod (n1-client)");
    assert.ok(podToCluster);
    const us = resolveCase(podToCluster, "userspace");
    assert.ok(us.run && us.expect.kind === "answered" && us.expect.source === "node");
    const ipt = resolveCase(podToCluster, "iptables");
    assert.ok(ipt.run && ipt.expect.kind === "answered" && ipt.expect.source === "client");

    const masqAll = cases.find((c) => c.settings === "masqueradeAll");
    assert.ok(masqAll);
    assert.deepEqual(resolveCase(masqAll, "userspace"), {
      run: false,
      reason: modeRules.userspace?.onlyBaseSettings,
    });
    const stale = cases.find((c) => c.service === "kp/udp-stale");
    assert.ok(stale);
    const staleUs = resolveCase(stale, "userspace");
    assert.ok(
      staleUs.run && staleUs.then[0]?.expect.kind === "answered" && staleUs.then[0].expect.source === "node",
    );
  });
});

describe("conformance fixtures", () => {
  test("upstream Services keep their addresses; LoadBalancer IPs go through /status; the sentinel is last", () => {
    const svc1 = fixtures.find((f) => f.key === "ns1/svc1");
    assert.deepEqual(svc1?.loadBalancerIPs, ["1.2.3.4"]);
    assert.deepEqual(svc1?.endpoints, ["n1-pod1", "n2-pod1"]);
    assert.equal(svc1?.service["status"], undefined);
    assert.equal((svc1?.service["spec"] as Record<string, unknown>)["healthCheckNodePort"], undefined);
    const svc2 = fixtures.find((f) => f.key === "ns2/svc2");
    assert.equal((svc2?.service["spec"] as Record<string, unknown>)["healthCheckNodePort"], 30002);
    assert.equal(fixtures.at(-1)?.key, sentinelService);
  });

  test("an EndpointSlice carries the pods' IPs, their nodes, and the Service's target ports", () => {
    const web = fixtures.find((f) => f.key === "kp/web");
    assert.ok(web);
    assert.deepEqual(endpointSliceFor(web, ["n1-pod2", "n2-pod1"], conformanceTopology), {
      apiVersion: "discovery.k8s.io/v1",
      kind: "EndpointSlice",
      metadata: { namespace: "kp", name: "web-conformance", labels: { "kubernetes.io/service-name": "web" } },
      addressType: "IPv4",
      endpoints: [
        { addresses: ["10.180.0.2"], nodeName: "node1", conditions: { ready: true } },
        { addresses: ["10.180.1.1"], nodeName: "node2", conditions: { ready: true } },
      ],
      ports: [{ name: "http", port: 80, protocol: "TCP" }],
    });
    assert.throws(() => endpointSliceFor(web, ["nope"], conformanceTopology), /no pod nope/);
  });
});
