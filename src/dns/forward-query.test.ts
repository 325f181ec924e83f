import assert from "node:assert/strict";
import { createSocket, type Socket } from "node:dgram";
import { createServer, type AddressInfo, type Server } from "node:net";
import { after, before, describe, it } from "node:test";
import dnsPacket from "dns-packet";
import { flagRD } from "./dns-message.ts";
import { forwardQuery } from "./forward-query.ts";
import { answerData, rcodeName } from "./testing/reply-fields.ts";

type Behaviour = "answer" | "truncate" | "servfail" | "silent";

/** A fake upstream on loopback: UDP and TCP on the same port, answering per `behaviour`. */
async function fakeUpstream(
  behaviour: Behaviour,
): Promise<{ port: number; udpQueries: () => number; tcpQueries: () => number; close(): Promise<void> }> {
  let udpCount = 0;
  let tcpCount = 0;
  const reply = (query: Buffer, viaTcp: boolean): Buffer => {
    const q = dnsPacket.decode(query);
    const rcode = behaviour === "servfail" ? 2 : 0;
    const tc = behaviour === "truncate" && !viaTcp ? dnsPacket.TRUNCATED_RESPONSE : 0;
    return dnsPacket.encode({
      type: "response",
      id: q.id ?? 0,
      flags: dnsPacket.RECURSION_AVAILABLE | tc | rcode,
      questions: q.questions ?? [],
      answers:
        tc || rcode
          ? []
          : [
              {
                name: q.questions?.[0]?.name ?? "",
                type: "A",
                ttl: 30,
                data: viaTcp ? "192.0.2.2" : "192.0.2.1",
              },
            ],
    });
  };
  const udp: Socket = createSocket("udp4");
  udp.on("message", (msg, rinfo) => {
    udpCount++;
    if (behaviour !== "silent") udp.send(reply(msg, false), rinfo.port, rinfo.address);
  });
  await new Promise<void>((resolve) => udp.bind(0, "127.0.0.1", resolve));
  const port = udp.address().port;
  const tcp: Server = createServer((socket) => {
    socket.on("data", (chunk: Buffer) => {
      tcpCount++;
      const r = reply(chunk.subarray(2), true);
      const frame = Buffer.alloc(2 + r.length);
      frame.writeUInt16BE(r.length, 0);
      r.copy(frame, 2);
      socket.end(frame);
    });
  });
  await new Promise<void>((resolve) => tcp.listen(port, "127.0.0.1", resolve));
  return {
    port,
    udpQueries: () => udpCount,
    tcpQueries: () => tcpCount,
    close: async () => {
      await new Promise<void>((resolve) => udp.close(() => resolve()));
      await new Promise<void>((resolve) => tcp.close(() => resolve()));
    },
  };
}

/** A loopback UDP port with nothing listening (bound, read, then closed). */
async function deadPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, "127.0.0.1", resolve));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

const query = dnsPacket.encode({
  type: "query",
  id: 77,
  flags: flagRD,
  questions: [{ name: "example.com", type: "A" }],
});

describe("forwardQuery", () => {
  const upstreams: Record<Behaviour, Awaited<ReturnType<typeof fakeUpstream>> | undefined> = {
    answer: undefined,
    truncate: undefined,
    servfail: undefined,
    silent: undefined,
  };
  before(async () => {
    for (const b of Object.keys(upstreams) as Behaviour[]) upstreams[b] = await fakeUpstream(b);
  });
  after(async () => {
    for (const u of Object.values(upstreams)) await u?.close();
  });
  const at = (b: Behaviour): { host: string; port: number } => ({
    host: "127.0.0.1",
    port: upstreams[b]?.port ?? 0,
  });

  it("relays the answer with the client's ID", async () => {
    const r = await forwardQuery(query, [at("answer")], { timeoutMs: 1000 });
    assert.equal(r.ok, true);
    if (!r.ok) return;
    const decoded = dnsPacket.decode(r.reply);
    assert.equal(decoded.id, 77);
    assert.equal(answerData(decoded.answers?.[0]), "192.0.2.1");
  });

  it("asks again over TCP when the UDP reply is truncated", async () => {
    const r = await forwardQuery(query, [at("truncate")], { timeoutMs: 1000 });
    assert.equal(r.ok && answerData(dnsPacket.decode(r.reply).answers?.[0]), "192.0.2.2");
    assert.equal(upstreams.truncate?.tcpQueries(), 1);
  });

  it("moves on from SERVFAIL, a silent upstream and a refused port to the next upstream", async () => {
    const r = await forwardQuery(
      query,
      [at("servfail"), { host: "127.0.0.1", port: await deadPort() }, at("silent"), at("answer")],
      {
        timeoutMs: 300,
      },
    );
    assert.equal(r.ok && r.upstream.port, upstreams.answer?.port);
  });

  it("fails with refused, timeout or no-upstream", async () => {
    const refused = await forwardQuery(query, [{ host: "127.0.0.1", port: await deadPort() }], {
      timeoutMs: 2000,
    });
    assert.deepEqual(refused, { ok: false, failure: "refused" });
    const silent = await forwardQuery(query, [at("silent")], { timeoutMs: 200 });
    assert.deepEqual(silent, { ok: false, failure: "timeout" });
    assert.deepEqual(await forwardQuery(query, [], { timeoutMs: 200 }), {
      ok: false,
      failure: "no-upstream",
    });
  });

  it("passes a final SERVFAIL on when no upstream does better", async () => {
    const r = await forwardQuery(query, [at("servfail")], { timeoutMs: 500 });
    assert.equal(r.ok && rcodeName(r.reply), "SERVFAIL");
  });
});
