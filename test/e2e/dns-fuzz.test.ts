// Must-show 4: thousands of fuzzed and truncated packets, over UDP and TCP, do not crash the DNS
// server: they are dropped (and counted) or refused, and the server still answers afterwards.
import assert from "node:assert/strict";
import { createSocket } from "node:dgram";
import { connect } from "node:net";
import { after, before, describe, it } from "node:test";
import { Registry } from "prom-client";
import { startDnsServer, type DnsServer } from "../../src/dns/dns-server.ts";
import { askUdp } from "../../src/dns/testing/ask-udp.ts";
import { answerData, dig, pollUntil } from "../../src/dns/testing/dig.ts";
import { clusterIPService } from "../../src/dns/testing/dns-fixtures.ts";
import { fuzzPackets } from "../../src/dns/testing/fuzz-packets.ts";
import { seededRandom } from "../../src/sys/seeded-random.ts";
import { startInMemoryKubeApi, type InMemoryKubeApi } from "../../src/dns/testing/in-memory-kube-api.ts";
import { silentLogger } from "../../src/sys/logger.ts";
import { missingRequirement, suiteSkip } from "../support/requirements.ts";

const requirement = missingRequirement({ commands: ["dig"] });

async function malformedCount(registry: Registry, proto: string): Promise<number> {
  const text = await registry.metrics();
  return Number(
    new RegExp(`kproxy_dns_malformed_packets_total\\{proto="${proto}"\\} (\\d+)`).exec(text)?.[1] ?? 0,
  );
}

describe("dns: hostile packets", suiteSkip(requirement), () => {
  let api: InMemoryKubeApi;
  let server: DnsServer;
  const registry = new Registry();

  const stillAnswers = async (): Promise<void> => {
    const r = await dig("127.0.0.1", server.port, ["web.default.svc.cluster.local", "A"]);
    assert.deepEqual(answerData(r), ["10.96.0.10"], r.output);
    const tcp = await dig("127.0.0.1", server.port, ["+tcp", "web.default.svc.cluster.local", "A"]);
    assert.deepEqual(answerData(tcp), ["10.96.0.10"], tcp.output);
  };

  before(async () => {
    if (requirement !== undefined) throw new Error(requirement);
    api = await startInMemoryKubeApi();
    api.apply(
      "services",
      clusterIPService("default", "web", ["10.96.0.10"], [{ port: 80 }]) as unknown as Record<
        string,
        unknown
      >,
    );
    server = await startDnsServer({
      kubeConfig: api.kubeConfig(),
      bindAddress: "127.0.0.1:0",
      clusterDomain: "cluster.local",
      ttlSeconds: 5,
      upstreams: ["127.0.0.1:9"],
      pods: "insecure",
      endpointPodNames: false,
      externalNameIPs: false,
      logger: silentLogger(),
      metrics: registry,
      upstreamTimeoutMs: 200,
    });
    const synced = await pollUntil(
      () => askUdp("127.0.0.1", server.port, "web.default.svc.cluster.local", "A"),
      (r) => r.rcode === "NOERROR",
      10_000,
    );
    assert.ok(synced.ok);
  });
  after(async () => {
    await server?.close();
    await api?.close();
  });

  it("survives 6,000 fuzzed and truncated UDP packets", async () => {
    const socket = createSocket("udp4");
    await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", resolve));
    let replies = 0;
    socket.on("message", () => replies++);
    const packets = fuzzPackets(6000, 42);
    for (let i = 0; i < packets.length; i++) {
      socket.send(packets[i] ?? Buffer.alloc(0), server.port, "127.0.0.1");
      // Pace the burst so that the kernel queue, not the test, decides nothing.
      if (i % 200 === 199) await new Promise((resolve) => setTimeout(resolve, 5));
    }
    await new Promise((resolve) => setTimeout(resolve, 300));
    socket.close();
    assert.ok((await malformedCount(registry, "udp")) > 1000, "malformed packets are counted");
    assert.ok(replies > 0, "mutations that still form a query get answers");
    await stillAnswers();
  });

  it("survives fuzzed messages, garbage streams, bad lengths and abrupt closes over TCP", async () => {
    const rand = seededRandom(9);
    const packets = fuzzPackets(3000, 43);
    const conversations: Promise<void>[] = [];
    for (let c = 0; c < 30; c++) {
      conversations.push(
        new Promise<void>((resolve) => {
          const socket = connect({ host: "127.0.0.1", port: server.port });
          socket.on("error", () => resolve());
          socket.on("close", () => resolve());
          socket.on("data", () => {});
          socket.on("connect", () => {
            const mine = packets.slice(c * 100, c * 100 + 100);
            for (const p of mine) {
              const frame = Buffer.alloc(2 + p.length);
              frame.writeUInt16BE(p.length, 0);
              p.copy(frame, 2);
              socket.write(frame);
            }
            if (c % 3 === 0) {
              // A length prefix promising more than ever arrives.
              socket.write(Buffer.from([0xff, 0xff, 1, 2, 3]));
            } else if (c % 3 === 1) {
              socket.write(Buffer.from(Array.from({ length: 4096 }, () => Math.floor(rand() * 256))));
            }
            if (c % 2 === 0) socket.destroy();
            else setTimeout(() => socket.end(), 50);
          });
        }),
      );
    }
    await Promise.all(conversations);
    assert.ok((await malformedCount(registry, "tcp")) > 500, "malformed TCP messages are counted");
    await stillAnswers();
  });
});
