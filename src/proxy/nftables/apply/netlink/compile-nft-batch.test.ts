import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { compileNftBatch } from "./compile-nft-batch.ts";
import { compileNftRule } from "./compile-nft-rule.ts";

describe("compileNftBatch", () => {
  it("compiles a partial sync's commands into one batch, one acknowledged message each", () => {
    const text = [
      "add chain ip kproxy endpoint-X",
      "flush chain ip kproxy service-X",
      "delete element ip kproxy service-ips { 172.30.0.1 . tcp . 80 }",
      "add rule ip kproxy endpoint-X ip saddr 10.1.0.1 jump mark-for-masquerade",
      "add rule ip kproxy endpoint-X meta l4proto tcp dnat to 10.1.0.1:80",
      "add rule ip kproxy service-X ip daddr 172.30.0.1 ip saddr != 10.0.0.0/8 jump mark-for-masquerade",
      "add rule ip kproxy service-X numgen random mod 2 0 goto endpoint-X",
      'add rule ip kproxy external-X fib saddr type local jump mark-for-masquerade comment "masquerade local traffic"',
      'add element ip kproxy no-endpoint-services { 172.30.0.1 . tcp . 80 comment "ns/svc:p" : goto reject-chain }',
      "add element ip kproxy cluster-ips { 172.30.0.1 }",
      "delete chain ip kproxy endpoint-Y",
      "",
    ].join("\n");
    const batch = compileNftBatch(text, 100);
    assert.ok(batch);
    assert.equal(batch.commands.size, 11);
    assert.equal(batch.commands.get(101), "add chain ip kproxy endpoint-X");
    // Every message is a whole number of 4-byte words, and the lengths add up to the batch.
    let off = 0;
    let count = 0;
    while (off < batch.bytes.length) {
      const len = batch.bytes.readUInt32LE(off);
      assert.equal(len % 4, 0);
      off += len;
      count++;
    }
    assert.equal(off, batch.bytes.length);
    assert.equal(count, 13); // begin + 11 + end
  });

  it("declines what it cannot compile, so that nft -f is used", () => {
    assert.equal(compileNftBatch("add set ip kproxy affinity-X { type ipv4_addr ; }\n", 1), undefined);
    assert.equal(compileNftBatch('add rule ip kproxy service-X iifname "br0" goto x\n', 1), undefined);
    assert.equal(compileNftRule("ip6 saddr 10.0.0.1 drop", "ip"), undefined);
  });

  it("encodes prefixes as nft does: whole bytes loaded, other prefixes masked", () => {
    const byte = compileNftRule("ip saddr != 10.0.0.0/8 drop", "ip");
    const masked = compileNftRule("ip saddr 203.0.113.0/25 return", "ip");
    assert.ok(byte && masked);
    assert.equal(byte.expressions.includes(Buffer.from("bitwise\0")), false);
    assert.equal(masked.expressions.includes(Buffer.from("bitwise\0")), true);
  });
});
