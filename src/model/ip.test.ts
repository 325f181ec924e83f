import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { bigIntToIP, cidrContains, ipToBigInt, parseCIDR } from "./ip.ts";

describe("ip", () => {
  it("parses CIDRs and masks host bits", () => {
    assert.deepEqual(parseCIDR("10.1.2.3/8"), { family: "IPv4", bits: ipToBigInt("10.0.0.0"), prefix: 8 });
    assert.equal(parseCIDR("10.0.0.0/33"), undefined);
    assert.equal(parseCIDR("10.0.0.0"), undefined);
    assert.equal(parseCIDR(" 203.0.113.0/25"), undefined);
  });

  it("tests membership across families", () => {
    assert.equal(cidrContains("10.0.0.0/8", "10.180.0.1"), true);
    assert.equal(cidrContains("10.0.0.0/8", "11.0.0.1"), false);
    assert.equal(cidrContains("2001:db8::/32", "2001:db8::1"), true);
    assert.equal(cidrContains("2001:db8::/32", "10.0.0.1"), false);
    assert.equal(cidrContains("0.0.0.0/0", "1.2.3.4"), true);
  });

  it("round-trips addresses, compressing IPv6", () => {
    for (const ip of ["0.0.0.0", "192.168.0.2", "255.255.255.255"])
      assert.equal(bigIntToIP(ipToBigInt(ip), "IPv4"), ip);
    assert.equal(bigIntToIP(ipToBigInt("2001:0db8:0:0:0:0:0:1"), "IPv6"), "2001:db8::1");
    assert.equal(bigIntToIP(ipToBigInt("::"), "IPv6"), "::");
    assert.equal(bigIntToIP(ipToBigInt("fd00:1:0:0:1::"), "IPv6"), "fd00:1:0:0:1::");
    assert.equal(bigIntToIP(ipToBigInt("::ffff:10.0.0.1"), "IPv6"), "::ffff:a00:1");
  });
});
