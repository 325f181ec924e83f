import assert from "node:assert/strict";
import dnsPacket, { type Answer } from "dns-packet";
import { describe, it } from "node:test";
import {
  encodeReply,
  flagAA,
  flagQR,
  flagRD,
  flagTC,
  parsePacket,
  relayReply,
  udpLimit,
  type DnsQuery,
} from "./dns-message.ts";
import { rcodeName } from "./testing/reply-fields.ts";

function query(name: string, type: "A" | "SRV", edns?: number): Buffer {
  return dnsPacket.encode({
    type: "query",
    id: 4242,
    flags: flagRD,
    questions: [{ name, type }],
    ...(edns === undefined
      ? {}
      : {
          additionals: [
            {
              name: ".",
              type: "OPT",
              udpPayloadSize: edns,
              extendedRcode: 0,
              ednsVersion: 0,
              flags: 0,
              flag_do: false,
              options: [],
            },
          ],
        }),
  });
}

function parsedQuery(buf: Buffer): DnsQuery {
  const p = parsePacket(buf);
  assert.equal(p.kind, "query");
  if (p.kind !== "query") throw new Error("unreachable");
  return p.query;
}

describe("dns messages", () => {
  it("reads a query, its EDNS0 size and the UDP limit", () => {
    const q = parsedQuery(query("web.default.svc.cluster.local", "A", 1232));
    assert.equal(q.id, 4242);
    assert.equal(q.question.name, "web.default.svc.cluster.local");
    assert.equal(udpLimit(q), 1232);
    assert.equal(udpLimit(parsedQuery(query("a", "A"))), 512);
    assert.equal(udpLimit(parsedQuery(query("a", "A", 100))), 512);
  });

  it("drops short, unreadable and response packets; refuses other opcodes and question counts", () => {
    assert.equal(parsePacket(Buffer.alloc(5)).kind, "malformed");
    const truncated = query("web.default.svc.cluster.local", "A").subarray(0, 20);
    assert.equal(parsePacket(truncated).kind, "malformed");
    const response = query("a", "A");
    response.writeUInt16BE(response.readUInt16BE(2) | flagQR, 2);
    assert.equal(parsePacket(response).kind, "malformed");
    const notify = query("a", "A");
    notify.writeUInt16BE((4 << 11) | flagRD, 2);
    const p = parsePacket(notify);
    assert.equal(p.kind === "reject" ? p.rcode : p.kind, "NOTIMP");
    const none = dnsPacket.encode({ type: "query", id: 1, flags: 0, questions: [] });
    const r = parsePacket(none);
    assert.equal(r.kind === "reject" ? r.rcode : r.kind, "FORMERR");
    if (r.kind === "reject") assert.equal(rcodeName(r.reply), "FORMERR");
  });

  it("encodes a reply with the query's ID, RD, AA and an OPT when the client used EDNS0", () => {
    const q = parsedQuery(query("web.default.svc.cluster.local", "A", 4096));
    const raw = encodeReply(q, { rcode: "NXDOMAIN", authoritative: true, answers: [] }, udpLimit(q));
    const reply = dnsPacket.decode(raw);
    assert.equal(reply.id, 4242);
    assert.equal(rcodeName(raw), "NXDOMAIN");
    assert.equal(reply.flag_aa, true);
    assert.equal(reply.flag_rd, true);
    assert.equal(reply.flag_ra, true);
    assert.equal(reply.additionals?.[0]?.type, "OPT");
  });

  it("sets TC and sends only the question when the reply exceeds the client's limit", () => {
    const answers: Answer[] = Array.from({ length: 60 }, (_, i) => ({
      name: "hl.default.svc.cluster.local",
      type: "A",
      ttl: 5,
      data: `10.0.0.${i + 1}`,
    }));
    const plain = parsedQuery(query("hl.default.svc.cluster.local", "A"));
    const small = encodeReply(plain, { rcode: "NOERROR", authoritative: true, answers }, udpLimit(plain));
    assert.ok(small.length <= 512);
    const decoded = dnsPacket.decode(small);
    assert.equal(decoded.flag_tc, true);
    assert.equal(decoded.answers?.length, 0);
    const big = parsedQuery(query("hl.default.svc.cluster.local", "A", 4096));
    const full = dnsPacket.decode(
      encodeReply(big, { rcode: "NOERROR", authoritative: true, answers }, udpLimit(big)),
    );
    assert.equal(full.flag_tc, false);
    assert.equal(full.answers?.length, 60);
  });

  it("relays an upstream reply with the client's ID, truncating it when too large", () => {
    const q = parsedQuery(query("example.com", "A"));
    const upstream = dnsPacket.encode({
      type: "response",
      id: 999,
      flags: flagRD | flagAA,
      questions: [{ name: "example.com", type: "A" }],
      answers: Array.from({ length: 40 }, (_, i) => ({
        name: "example.com",
        type: "A" as const,
        ttl: 60,
        data: `192.0.2.${i}`,
      })),
    });
    const relayed = dnsPacket.decode(relayReply(q, upstream, 4096));
    assert.equal(relayed.id, 4242);
    assert.equal(relayed.answers?.length, 40);
    const cut = relayReply(q, upstream, 512);
    assert.equal(cut.readUInt16BE(0), 4242);
    assert.notEqual(cut.readUInt16BE(2) & flagTC, 0);
    assert.equal(dnsPacket.decode(cut).answers?.length, 0);
  });
});
