import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { UsageError } from "../../errors.ts";
import { IpRangeAllocator } from "./ip-range-allocator.ts";
import { PortRangeAllocator } from "./port-range-allocator.ts";

describe("IpRangeAllocator", () => {
  it("hands out every address but the network and broadcast ones, then none", () => {
    const a = new IpRangeAllocator("192.168.5.0/29");
    const got = Array.from({ length: 7 }, (_, i) => a.allocateNext(`o${i}`));
    assert.deepEqual(got, [
      "192.168.5.1",
      "192.168.5.2",
      "192.168.5.3",
      "192.168.5.4",
      "192.168.5.5",
      "192.168.5.6",
      undefined,
    ]);
    assert.equal(a.used, 6);
  });

  it("claims requested addresses and knows who holds them", () => {
    const a = new IpRangeAllocator("10.96.0.0/12");
    assert.equal(a.claim("10.96.0.10", "ns/a"), "ok");
    assert.equal(a.claim("10.96.0.10", "ns/a"), "ok", "its owner may claim it again");
    assert.equal(a.claim("10.96.0.10", "ns/b"), "taken");
    assert.equal(a.claim("10.96.0.0", "ns/b"), "out-of-range", "the network address is reserved");
    assert.equal(a.claim("10.111.255.255", "ns/b"), "out-of-range", "the broadcast address is reserved");
    assert.equal(a.claim("10.112.0.1", "ns/b"), "out-of-range");
    assert.equal(a.claim("fd00::1", "ns/b"), "out-of-range");
    assert.equal(a.ownerOf("10.96.0.10"), "ns/a");
    a.release("10.96.0.10", "ns/b");
    assert.equal(a.ownerOf("10.96.0.10"), "ns/a", "only the owner releases");
    a.release("10.96.0.10", "ns/a");
    assert.equal(a.claim("10.96.0.10", "ns/b"), "ok");
  });

  it("reuses released addresses once the cursor comes round", () => {
    const a = new IpRangeAllocator("10.0.0.0/30");
    assert.equal(a.allocateNext("x"), "10.0.0.1");
    assert.equal(a.allocateNext("y"), "10.0.0.2");
    assert.equal(a.allocateNext("z"), undefined);
    a.release("10.0.0.1");
    assert.equal(a.allocateNext("z"), "10.0.0.1");
  });

  it("skips taken addresses quickly in a crowded range", () => {
    const a = new IpRangeAllocator("10.0.0.0/16");
    for (let i = 1; i < 60000; i++) assert.equal(a.claim(`10.0.${i >> 8}.${i & 255}`, "bulk"), "ok");
    const next = a.allocateNext("late");
    assert.equal(next, "10.0.234.96");
  });

  it("serves IPv6 ranges and small ones without reserved addresses", () => {
    const v6 = new IpRangeAllocator("fd00:10:96::/112");
    assert.equal(v6.family, "IPv6");
    assert.equal(v6.allocateNext("a"), "fd00:10:96::1");
    assert.equal(v6.claim("fd00:10:96::ffff", "b"), "ok");
    const single = new IpRangeAllocator("192.0.2.7/32");
    assert.equal(single.allocateNext("a"), "192.0.2.7");
    assert.throws(() => new IpRangeAllocator("10.0.0.0"), UsageError);
  });
});

describe("PortRangeAllocator", () => {
  it("hands out ports of its range and refuses others", () => {
    const p = new PortRangeAllocator("30000-30002");
    assert.deepEqual(
      [p.allocateNext("a"), p.allocateNext("b"), p.allocateNext("c"), p.allocateNext("d")],
      [30000, 30001, 30002, undefined],
    );
    p.release(30001, "b");
    assert.equal(p.claim(30001, "e"), "ok");
    assert.equal(p.claim(30001, "f"), "taken");
    assert.equal(p.claim(29999, "f"), "out-of-range");
    assert.equal(p.text, "30000-30002");
    assert.throws(() => new PortRangeAllocator("3-1"), UsageError);
    assert.throws(() => new PortRangeAllocator("30000-70000"), UsageError);
  });
});
