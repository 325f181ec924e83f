import assert from "node:assert/strict";
import dnsPacket from "dns-packet";
import { describe, it } from "node:test";
import { Registry } from "prom-client";
import { silentLogger } from "../sys/logger.ts";
import { DnsIndex } from "./dns-index.ts";
import { createDnsMetrics } from "./dns-metrics.ts";
import { createQueryHandler, type QueryHandler } from "./query-handler.ts";
import { clusterIPService } from "./testing/dns-fixtures.ts";
import { fuzzPackets } from "./testing/fuzz-packets.ts";
import { answerData, rcodeName } from "./testing/reply-fields.ts";

function handler(synced: boolean): { handle: QueryHandler; registry: Registry; index: DnsIndex } {
  const index = new DnsIndex({ zone: "cluster.local", endpointPodNames: false, externalNameIPs: false });
  index.upsertService(clusterIPService("default", "web", ["10.96.0.10"], [{ name: "http", port: 80 }]));
  const registry = new Registry();
  const handle = createQueryHandler({
    index,
    settings: { zone: "cluster.local", ttlSeconds: 5, pods: "insecure", nameserverIPs: [] },
    // Nowhere: forwarded questions fail at once, which is all these tests need.
    upstreams: [],
    upstreamTimeoutMs: 100,
    metrics: createDnsMetrics(registry),
    logger: silentLogger(),
    synced: () => synced,
  });
  return { handle, registry, index };
}

const query = (name: string, type: "A" | "TXT"): Buffer =>
  dnsPacket.encode({
    type: "query",
    id: 321,
    flags: dnsPacket.RECURSION_DESIRED,
    questions: [{ name, type }],
  });

describe("createQueryHandler", () => {
  it("answers zone names synchronously and counts them by type and rcode", async () => {
    const { handle, registry } = handler(true);
    const reply = handle(query("web.default.svc.cluster.local", "A"), "udp");
    assert.ok(Buffer.isBuffer(reply), "zone answers need no promise");
    assert.equal(dnsPacket.decode(reply).answers?.length, 1);
    assert.equal(
      rcodeName(handle(query("nope.default.svc.cluster.local", "A"), "tcp") as Buffer),
      "NXDOMAIN",
    );
    const text = await registry.metrics();
    assert.match(text, /kproxy_dns_queries_total\{type="A",rcode="NOERROR",proto="udp"\} 1/);
    assert.match(text, /kproxy_dns_queries_total\{type="A",rcode="NXDOMAIN",proto="tcp"\} 1/);
  });

  it("serves repeated queries from its reply cache until the index changes", () => {
    const { handle, index } = handler(true);
    const first = handle(query("web.default.svc.cluster.local", "A"), "udp") as Buffer;
    const again = query("web.default.svc.cluster.local", "A");
    again.writeUInt16BE(999, 0);
    const cached = handle(again, "udp") as Buffer;
    assert.equal(cached.readUInt16BE(0), 999, "the cached reply carries the new query's ID");
    assert.deepEqual(cached.subarray(2), first.subarray(2));
    index.upsertService(clusterIPService("default", "web", ["10.96.0.99"], [{ name: "http", port: 80 }]));
    const changed = dnsPacket.decode(handle(again, "udp") as Buffer);
    assert.deepEqual(
      changed.answers?.map((a) => answerData(a)),
      ["10.96.0.99"],
    );
  });

  it("keeps rotating multi-address answers instead of caching one order", () => {
    const { handle, index } = handler(true);
    index.upsertService(clusterIPService("default", "dual", ["10.96.0.1", "10.96.0.2"], [{ port: 80 }]));
    const firsts = new Set<unknown>();
    for (let i = 0; i < 4; i++) {
      firsts.add(
        answerData(
          dnsPacket.decode(handle(query("dual.default.svc.cluster.local", "A"), "udp") as Buffer)
            .answers?.[0],
        ),
      );
    }
    assert.equal(firsts.size, 2);
  });

  it("answers SERVFAIL for zone names before the informers have synced, and when forwarding fails", async () => {
    const { handle } = handler(false);
    assert.equal(rcodeName(handle(query("web.default.svc.cluster.local", "A"), "udp") as Buffer), "SERVFAIL");
    const forwarded = await handle(query("example.com", "A"), "udp");
    assert.equal(forwarded && rcodeName(forwarded), "SERVFAIL");
  });

  it("never throws on 20,000 hostile packets; every reply decodes and carries the query's ID", async () => {
    const { handle, registry } = handler(true);
    let replies = 0;
    for (const packet of fuzzPackets(20_000, 7)) {
      const reply = await handle(packet, "udp");
      if (reply === undefined) continue;
      replies++;
      assert.equal(reply.readUInt16BE(0), packet.readUInt16BE(0));
      assert.ok((reply.readUInt16BE(2) & 0x8000) !== 0, "a reply has QR set");
      dnsPacket.decode(reply);
    }
    assert.ok(replies > 0, "some mutated packets are still queries");
    const text = await registry.metrics();
    const dropped = Number(/kproxy_dns_malformed_packets_total\{proto="udp"\} (\d+)/.exec(text)?.[1] ?? 0);
    assert.ok(dropped > 1000, `malformed packets counted: ${dropped}`);
  });
});
