// Must-show 2: names outside the cluster zone are forwarded to a real upstream resolver (Debian's
// dnsmasq, started here on loopback), including TC → TCP and ExternalName chasing; and when the
// upstream is gone or silent, clients get SERVFAIL within the forwarding timeout.
import assert from "node:assert/strict";
import { createSocket, type Socket } from "node:dgram";
import { after, before, describe, it } from "node:test";
import { Registry } from "prom-client";
import { startDnsServer, type DnsServer } from "../../src/dns/dns-server.ts";
import { answerData, dig, pollUntil } from "../../src/dns/testing/dig.ts";
import { clusterIPService, externalNameService } from "../../src/dns/testing/dns-fixtures.ts";
import { startDnsmasq, type Dnsmasq } from "../../src/dns/testing/dnsmasq.ts";
import { startInMemoryKubeApi, type InMemoryKubeApi } from "../../src/dns/testing/in-memory-kube-api.ts";
import { silentLogger } from "../../src/sys/logger.ts";
import { missingRequirement, suiteSkip } from "../support/requirements.ts";

const requirement = missingRequirement({ commands: ["dig", "dnsmasq"] });

const hosts = [
  "192.0.2.10 www.example.test",
  "2001:db8::10 www.example.test",
  ...Array.from({ length: 60 }, (_, i) => `198.51.100.${i + 1} many.example.test`),
  "",
].join("\n");

describe("dns: forwarding to a real upstream resolver", suiteSkip(requirement), () => {
  let api: InMemoryKubeApi;
  let dnsmasq: Dnsmasq;
  let server: DnsServer;
  let registry: Registry;

  const start = async (
    upstreams: string[],
    upstreamTimeoutMs: number,
    metrics = new Registry(),
    bindAddress = "127.0.0.1:0",
  ): Promise<DnsServer> => {
    const s = await startDnsServer({
      kubeConfig: api.kubeConfig(),
      bindAddress,
      clusterDomain: "cluster.local",
      ttlSeconds: 5,
      upstreams,
      pods: "disabled",
      endpointPodNames: false,
      externalNameIPs: false,
      logger: silentLogger(),
      metrics,
      upstreamTimeoutMs,
    });
    const synced = await pollUntil(
      () => dig("127.0.0.1", s.port, ["web.default.svc.cluster.local", "A"]),
      (r) => r.status === "NOERROR",
      10_000,
      50,
    );
    assert.ok(synced.ok, synced.value.output);
    return s;
  };

  before(async () => {
    if (requirement !== undefined) throw new Error(requirement);
    api = await startInMemoryKubeApi();
    api.apply("namespaces", { metadata: { name: "default" } });
    for (const svc of [
      clusterIPService("default", "web", ["10.96.0.10"], [{ name: "http", port: 80 }]),
      externalNameService("default", "ext", "www.example.test"),
    ]) {
      api.apply("services", svc as unknown as Record<string, unknown>);
    }
    dnsmasq = await startDnsmasq({ hosts, probeName: "www.example.test", localDomains: ["example.test"] });
    registry = new Registry();
    server = await start([`127.0.0.1:${dnsmasq.port}`], 2000, registry);
  });
  after(async () => {
    await server?.close();
    await dnsmasq?.close();
    await api?.close();
  });

  it("forwards names outside the zone and relays the upstream's answers and NXDOMAIN", async () => {
    for (const transport of [[], ["+tcp"]]) {
      const a = await dig("127.0.0.1", server.port, [...transport, "www.example.test", "A"]);
      assert.equal(a.status, "NOERROR", a.output);
      assert.deepEqual(answerData(a), ["192.0.2.10"]);
      // The upstream's record as it gave it: dnsmasq serves hosts-file names with TTL 0, ours is 5.
      assert.equal(a.answer[0]?.ttl, 0, a.output);
      assert.deepEqual(
        answerData(await dig("127.0.0.1", server.port, [...transport, "www.example.test", "AAAA"])),
        ["2001:db8::10"],
      );
      const nx = await dig("127.0.0.1", server.port, [...transport, "nope.example.test", "A"]);
      assert.equal(nx.status, "NXDOMAIN", nx.output);
    }
    // Reverse names the cluster does not know go upstream too (CoreDNS's fallthrough).
    assert.deepEqual(answerData(await dig("127.0.0.1", server.port, ["-x", "192.0.2.10"])), [
      "www.example.test.",
    ]);
    const metrics = await registry.metrics();
    assert.match(metrics, /kproxy_dns_forward_requests_total\{result="ok"\} [1-9]/);
  });

  it("follows an upstream's truncation over TCP and truncates for a small client in turn", async () => {
    const cut = await dig("127.0.0.1", server.port, ["+bufsize=512", "+ignore", "many.example.test", "A"]);
    assert.ok(cut.flags.includes("tc"), cut.output);
    const full = await dig("127.0.0.1", server.port, ["+bufsize=512", "many.example.test", "A"]);
    assert.equal(full.answer.length, 60, full.output);
    const big = await dig("127.0.0.1", server.port, ["+bufsize=4096", "many.example.test", "A"]);
    assert.equal(big.answer.length, 60, big.output);
    assert.ok(!big.flags.includes("tc"));
  });

  it("chases an ExternalName's target upstream, answering the CNAME and the target's address", async () => {
    const r = await dig("127.0.0.1", server.port, ["ext.default.svc.cluster.local", "A"]);
    assert.equal(r.status, "NOERROR", r.output);
    assert.deepEqual(
      r.answer.map((x) => `${x.type} ${x.data}`),
      ["CNAME www.example.test.", "A 192.0.2.10"],
    );
  });

  describe("when the upstream fails", () => {
    let silent: Socket;
    let deadPort = 0;
    before(async () => {
      // A UDP port that swallows queries, and one with nothing behind it (ICMP port unreachable).
      silent = createSocket("udp4");
      await new Promise<void>((resolve) => silent.bind(0, "127.0.0.1", resolve));
      const probe = createSocket("udp4");
      await new Promise<void>((resolve) => probe.bind(0, "127.0.0.1", resolve));
      deadPort = probe.address().port;
      await new Promise<void>((resolve) => probe.close(() => resolve()));
    });
    after(() => silent?.close());

    it("answers SERVFAIL when nothing listens upstream", async () => {
      const s = await start([`127.0.0.1:${deadPort}`], 1500);
      try {
        const began = Date.now();
        const r = await dig("127.0.0.1", s.port, ["www.example.test", "A"]);
        assert.equal(r.status, "SERVFAIL", r.output);
        assert.ok(Date.now() - began < 1500 + 3000, "answered within the forwarding timeout");
        // A cluster name still works while the upstream is down.
        assert.deepEqual(answerData(await dig("127.0.0.1", s.port, ["web.default.svc.cluster.local", "A"])), [
          "10.96.0.10",
        ]);
      } finally {
        await s.close();
      }
    });

    it("never forwards to itself when its upstream list names its own address", async () => {
      const probe = createSocket("udp4");
      await new Promise<void>((resolve) => probe.bind(0, "127.0.0.1", resolve));
      const port = probe.address().port;
      await new Promise<void>((resolve) => probe.close(() => resolve()));
      const metrics = new Registry();
      const s = await start([`127.0.0.1:${port}`], 1500, metrics, `127.0.0.1:${port}`);
      try {
        const r = await dig("127.0.0.1", s.port, ["www.example.test", "A"]);
        assert.equal(r.status, "SERVFAIL", r.output);
        assert.match(await metrics.metrics(), /kproxy_dns_forward_requests_total\{result="no-upstream"\} 1/);
      } finally {
        await s.close();
      }
    });

    it("answers SERVFAIL after the timeout when the upstream stays silent, and the CNAME alone for a chase", async () => {
      const s = await start([`127.0.0.1:${silent.address().port}`], 800);
      try {
        // dig itself gives up after 3 s (+time=3): a reply at all proves the bound.
        const r = await dig("127.0.0.1", s.port, ["www.example.test", "A"]);
        assert.equal(r.status, "SERVFAIL", r.output);
        const chased = await dig("127.0.0.1", s.port, ["ext.default.svc.cluster.local", "A"]);
        assert.equal(chased.status, "NOERROR", chased.output);
        assert.deepEqual(answerData(chased), ["www.example.test."]);
      } finally {
        await s.close();
      }
    });
  });
});
