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
    assert.equal(compileNftBatch("add map ip kproxy m { type ipv4_addr : verdict ; }\n", 1), undefined);
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

  it("compiles the endpoint-map choice with the expressions nft generates for it", () => {
    const rule = compileNftRule(
      "meta l4proto tcp dnat ip to numgen random mod 32768 offset 98304 map @endpoints-tcp-03",
      "ip",
    );
    assert.ok(rule);
    // From `nft --debug=mnl` for the same rule (nft also sends the lookup's set id; the kernel
    // finds the set by name, and sets PROTO_SPECIFIED itself when a proto register is given).
    assert.deepEqual(decodeExpressions(rule.expressions), [
      ["meta", { 2: 16, 1: 1 }],
      ["cmp", { 1: 1, 2: 0, 3: "nested" }],
      ["numgen", { 1: 1, 2: 32768, 3: 1, 4: 98304 }],
      ["byteorder", { 1: 1, 2: 1, 3: 1, 4: 4, 5: 4 }],
      ["lookup", { 1: "endpoints-tcp-03", 2: 1, 3: 1 }],
      ["nat", { 1: 1, 2: 2, 3: 1, 5: 9, 7: 2 }],
    ]);
    const v6 = compileNftRule(
      "meta l4proto udp dnat ip6 to numgen random mod 32768 offset 32768 map @endpoints-udp-00",
      "ip6",
    );
    assert.ok(v6);
    // After a 16-byte address the port is in register 2.
    assert.deepEqual(decodeExpressions(v6.expressions).at(-1), ["nat", { 1: 1, 2: 10, 3: 1, 5: 2, 7: 2 }]);
    assert.equal(
      compileNftRule("meta l4proto tcp dnat ip6 to numgen random mod 32768 offset 0 map @m", "ip"),
      undefined,
    );
  });

  it("compiles an affinity set's declaration and deletion as nft sends them", () => {
    const batch = compileNftBatch(
      "add set ip kp affinity-X { type ipv4_addr ; flags dynamic,timeout ; timeout 60s ; }\ndelete set ip kp affinity-X\n",
      0,
    );
    assert.ok(batch);
    // NEWSET attributes from an strace of `nft -f` with the same command (set id 1).
    const newSet =
      "07000100" +
      "6b700000" +
      "0f000200616666696e6974792d580000" +
      "0800030000000030" +
      "0800040000000007" +
      "0800050000000004" +
      "08000a0000000001" +
      "0c000b00000000000000ea60" +
      "0a000d000004020000000000";
    const delSet = "070001006b7000000f000200616666696e6974792d580000";
    const hex = batch.bytes.toString("hex");
    assert.ok(hex.includes(newSet), hex);
    assert.ok(hex.includes(delSet), hex);
    // Other declarations (maps, other flags) still go through nft.
    assert.equal(
      compileNftBatch("add set ip6 kp a { type ipv4_addr ; flags dynamic,timeout ; timeout 60s ; }\n", 0),
      undefined,
    );
    assert.equal(compileNftBatch("flush set ip kp affinity-X\n", 0), undefined);
  });

  it("compiles an interval element as its start and its flagged end, and value data in register layout", () => {
    const add = compileNftBatch(
      "add element ip kproxy endpoints-tcp-01 { 5000000-5000099 : 10.0.0.1 . 80 }\n",
      1,
    );
    const del = compileNftBatch("delete element ip kproxy endpoints-tcp-01 { 5000000-5000099 }\n", 1);
    assert.ok(add && del);
    // Bytes of the element list nft sends for the same commands (strace of `nft -f`), but for
    // the type of the second list element: nft numbers them, the kernel ignores it.
    const addList =
      "200001800c00018008000100004c4b40100002800c0001000a00000100500000" +
      "1800018008000300000000010c00018008000100004c4ba4";
    const delList = "100001800c00018008000100004c4b401800018008000300000000010c00018008000100004c4ba4";
    assert.ok(add.bytes.toString("hex").includes(addList), add.bytes.toString("hex"));
    assert.ok(del.bytes.toString("hex").includes(delList), del.bytes.toString("hex"));
    assert.equal(compileNftBatch("add element ip kproxy m { 5-4 : 10.0.0.1 . 80 }\n", 1), undefined);
  });
});

/** Expressions as [name, {attribute type: number, string or "nested"}], for comparing with nft's. */
function decodeExpressions(nested: Buffer): [string, Record<number, number | string>][] {
  const attrs = (buf: Buffer): { type: number; nested: boolean; value: Buffer }[] => {
    const out: { type: number; nested: boolean; value: Buffer }[] = [];
    for (let off = 0; off + 4 <= buf.length;) {
      const len = buf.readUInt16LE(off);
      const type = buf.readUInt16LE(off + 2);
      out.push({
        type: type & 0x3fff,
        nested: (type & 0x8000) !== 0,
        value: buf.subarray(off + 4, off + len),
      });
      off += (len + 3) & ~3;
    }
    return out;
  };
  const text = (b: Buffer): string => b.toString("utf8").replace(/\0+$/, "");
  const [list] = attrs(nested);
  assert.ok(list);
  return attrs(list.value).map((elem) => {
    const parts = attrs(elem.value);
    const data: Record<number, number | string> = {};
    for (const a of attrs(parts.find((p) => p.type === 2)?.value ?? Buffer.alloc(0)))
      data[a.type] = a.nested ? "nested" : a.value.length === 4 ? a.value.readUInt32BE(0) : text(a.value);
    return [text(parts.find((p) => p.type === 1)?.value ?? Buffer.alloc(0)), data];
  });
}
