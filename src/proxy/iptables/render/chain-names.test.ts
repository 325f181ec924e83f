import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { describe, it } from "node:test";
import { chainHash, endpointChainName, isServiceChainName, servicePortChainNames } from "./chain-names.ts";

// RFC 4648 test vectors, checked against a plain (slow) encoder.
function base32(bytes: Uint8Array): string {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = "";
  for (const b of bytes) bits += b.toString(2).padStart(8, "0");
  let out = "";
  for (let i = 0; i + 5 <= bits.length; i += 5) out += alphabet[parseInt(bits.slice(i, i + 5), 2)];
  return out;
}

describe("chain names", () => {
  it("are upstream's: base32(SHA-256(servicePortName + lower-case protocol))[:16]", () => {
    // Names from upstream's TestOverallIPTablesRules dump.
    assert.equal(servicePortChainNames("ns1/svc1:p80", "TCP").cluster, "KUBE-SVC-XPGD46QRK7WJZT7O");
    assert.deepEqual(servicePortChainNames("ns5/svc5:p80", "TCP"), {
      cluster: "KUBE-SVC-NUKIZ6OKUXPJNT4C",
      local: "KUBE-SVL-NUKIZ6OKUXPJNT4C",
      external: "KUBE-EXT-NUKIZ6OKUXPJNT4C",
      firewall: "KUBE-FW-NUKIZ6OKUXPJNT4C",
    });
    assert.equal(endpointChainName("ns1/svc1:p80", "TCP", "10.180.0.1:80"), "KUBE-SEP-SXIVWICOYRO3J4NJ");
  });

  it("differ by protocol and endpoint", () => {
    assert.notEqual(
      servicePortChainNames("a/b:dns", "TCP").cluster,
      servicePortChainNames("a/b:dns", "UDP").cluster,
    );
    assert.notEqual(
      endpointChainName("a/b", "TCP", "10.0.0.1:53"),
      endpointChainName("a/b", "TCP", "10.0.0.2:53"),
    );
  });

  it("encodes like the standard base32 alphabet", () => {
    for (const text of ["", "a", "ns/name:port", "x".repeat(100)]) {
      const digest = createHash("sha256").update(text).digest();
      assert.equal(chainHash(text), base32(digest).slice(0, 16));
    }
  });

  it("recognises per-service chains only", () => {
    assert.equal(isServiceChainName("KUBE-SEP-ABC"), true);
    assert.equal(isServiceChainName("KUBE-FW-ABC"), true);
    assert.equal(isServiceChainName("KUBE-SERVICES"), false);
    assert.equal(isServiceChainName("KUBE-FIREWALL"), false);
  });
});
