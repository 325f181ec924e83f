// The harness's own checks, without kproxy: the topology the conformance suite relies on is up,
// every pod answers by IP from everywhere with its own name and the client's real source
// address, the bridge ports are in hairpin mode, and the client tells refused from dropped.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { conformanceTopology } from "../../src/proxy/testing/conformance-topology.ts";
import { suiteSkip } from "../support/requirements.ts";
import type { ClientResult } from "./harness/client-agent.ts";
import { ip, nsExec, nsSysctlValue } from "./harness/netns.ts";
import { topologyRequirement } from "./harness/requirements.ts";
import { buildTopology, type Topology } from "./harness/topology.ts";

const spec = conformanceTopology;
const backends = spec.pods.filter((p) => p.role === "backend");
const clients = [
  ...spec.pods.filter((p) => p.role === "client").map((p) => p.name),
  "node1",
  "node2",
  "external",
];

function answeredBy(result: ClientResult): { name: string; source: string; local: string } {
  assert.equal(result.outcome, "answered", JSON.stringify(result));
  if (result.outcome !== "answered") throw new Error("unreachable");
  return { name: result.answer.name, source: result.answer.source, local: result.localAddress };
}

describe("harness topology", suiteSkip(topologyRequirement(["iptables"])), () => {
  let topo: Topology;
  before(async () => {
    topo = await buildTopology(spec);
  });
  after(async () => {
    await topo?.close();
  });

  test("creates one namespace per node, pod, external client and the fabric, all under one stem", () => {
    assert.equal(topo.namespaces.length, spec.nodes.length + spec.pods.length + 2);
    for (const ns of topo.namespaces) assert.ok(ns.startsWith(`${topo.stem}-`), ns);
    assert.match(topo.stem, new RegExp(`^kp-h${process.pid}-[0-9a-f]{6}$`));
  });

  for (const from of clients) {
    test(`every backend answers by IP over TCP and UDP from ${from}, seeing the client's own address`, async () => {
      const client = await topo.client(from);
      const results = await Promise.all(
        backends.flatMap((pod) =>
          [client.tcp(pod.ip, 80), client.udp(pod.ip, 80)].map(async (r) => [pod, await r] as const),
        ),
      );
      for (const [pod, result] of results) {
        const answer = answeredBy(result);
        assert.equal(answer.name, pod.name);
        assert.equal(
          answer.source,
          answer.local,
          `${pod.name} saw ${answer.source}, the client sent from ${answer.local}`,
        );
      }
    });
  }

  test("pod bridge ports are in hairpin mode and nodes forward", async () => {
    for (const node of spec.nodes) {
      const ns = topo.namespaceOf(node.name);
      assert.equal(await nsSysctlValue(ns, "net.ipv4.ip_forward"), "1");
      const links = await ip(["-n", ns, "-d", "link", "show", "master", "cbr0"]);
      const ports = spec.pods.filter((p) => p.node === node.name).length;
      assert.equal(links.match(/hairpin on/g)?.length, ports, links);
    }
  });

  test("the external client's traffic to and from every node goes through the gateway node", async () => {
    const gateway = spec.nodes.find((n) => n.name === spec.external.gatewayNode);
    assert.ok(gateway);
    for (const node of spec.nodes) {
      if (node === gateway) continue;
      const back = await ip(["-n", topo.namespaceOf(node.name), "route", "get", spec.external.ip]);
      assert.match(back, new RegExp(`via ${gateway.ip.replaceAll(".", "\\.")} `), back);
      const there = await ip(["-n", topo.namespaceOf(spec.external.name), "route", "get", node.ip]);
      assert.match(there, new RegExp(`via ${gateway.ip.replaceAll(".", "\\.")} `), there);
    }
    assert.equal(
      await nsSysctlValue(topo.namespaceOf(gateway.name), "net.ipv4.conf.eth0.send_redirects"),
      "0",
    );
  });

  test("a client tells refused (REJECT, RST) from dropped (DROP) and from answered", async (t) => {
    const [rejecting, dropping] = [backends[0], backends[1]];
    assert.ok(rejecting && dropping);
    const rules = [
      [rejecting, ["-A", "INPUT", "-p", "tcp", "--dport", "80", "-j", "REJECT"]],
      [rejecting, ["-A", "INPUT", "-p", "udp", "--dport", "80", "-j", "REJECT"]],
      [dropping, ["-A", "INPUT", "-p", "tcp", "--dport", "80", "-j", "DROP"]],
      [dropping, ["-A", "INPUT", "-p", "udp", "--dport", "80", "-j", "DROP"]],
    ] as const;
    t.after(async () => {
      for (const pod of [rejecting, dropping])
        await nsExec(topo.namespaceOf(pod.name), "iptables", ["-F", "INPUT"]);
    });
    for (const [pod, rule] of rules) await nsExec(topo.namespaceOf(pod.name), "iptables", rule);
    const client = await topo.client("n1-client");
    const opts = { timeoutMs: 700 };
    const [tcpRejected, udpRejected, tcpDropped, udpDropped, closedPort, ok] = await Promise.all([
      client.tcp(rejecting.ip, 80, opts),
      client.udp(rejecting.ip, 80, opts),
      client.tcp(dropping.ip, 80, opts),
      client.udp(dropping.ip, 80, opts),
      client.tcp(backends[2]?.ip ?? "", 81, opts),
      client.tcp(backends[2]?.ip ?? "", 80, opts),
    ]);
    assert.deepEqual(tcpRejected, { outcome: "refused", code: "ECONNREFUSED" });
    assert.deepEqual(udpRejected, { outcome: "refused", code: "ECONNREFUSED" });
    assert.deepEqual(tcpDropped, { outcome: "dropped" });
    assert.deepEqual(udpDropped, { outcome: "dropped" });
    assert.deepEqual(closedPort, { outcome: "refused", code: "ECONNREFUSED" });
    assert.equal(answeredBy(ok).name, backends[2]?.name);
  });
});
