import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { decodeSockaddr, encodeSockaddr } from "./libc.ts";

describe("sockaddr encoding", () => {
  const cases: [string, number, number][] = [
    ["127.0.0.1", 80, 16],
    ["10.96.0.10", 53, 16],
    ["::1", 8080, 28],
    ["fd00::a:1", 443, 28],
    ["2001:db8::1:0:0:1", 65535, 28],
    ["::ffff:192.0.2.7", 1, 28],
  ];
  for (const [ip, port, size] of cases)
    it(`round-trips ${ip} port ${port}`, () => {
      const raw = encodeSockaddr(ip, port);
      assert.equal(raw.length, size);
      assert.deepEqual(decodeSockaddr(raw), { address: ip, port });
    });

  it("lays out sockaddr_in as the kernel reads it", () => {
    assert.deepEqual(
      [...encodeSockaddr("192.0.2.1", 0x1f90)],
      [2, 0, 0x1f, 0x90, 192, 0, 2, 1, 0, 0, 0, 0, 0, 0, 0, 0],
    );
  });
});
