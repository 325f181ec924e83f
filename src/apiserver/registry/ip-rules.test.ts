import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  validateCIDR,
  validateIP,
  validateIPv4Address,
  validateIPv6Address,
  validateNonSpecialIP,
} from "./ip-rules.ts";

function messages(problems: ReadonlyArray<{ message: string }>): string[] {
  return problems.map((p) => p.message);
}

describe("ip-rules", () => {
  it("validateIP accepts both families and nothing else", () => {
    assert.deepEqual(messages(validateIP("f", "10.0.0.1")), []);
    assert.deepEqual(messages(validateIP("f", "2001:db8::1")), []);
    assert.deepEqual(messages(validateIP("f", "10.0.0")), [
      'Invalid value: "10.0.0": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)',
    ]);
    assert.deepEqual(messages(validateIP("f", "")), [
      'Invalid value: "": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)',
    ]);
  });

  it("validateCIDR accepts host bits, rejects bad prefixes", () => {
    assert.deepEqual(messages(validateCIDR("f", "10.0.0.1/8")), []);
    assert.deepEqual(messages(validateCIDR("f", "2001:db8::/64")), []);
    for (const bad of ["10.0.0.0", "10.0.0.0/33", "2001:db8::/129", "x/8"]) {
      assert.deepEqual(messages(validateCIDR("f", bad)), [
        `Invalid value: "${bad}": must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)`,
      ]);
    }
  });

  it("validateIPv4Address / validateIPv6Address check the family", () => {
    assert.equal(validateIPv4Address("f", "10.0.0.1").length, 0);
    assert.equal(validateIPv4Address("f", "::1").length, 1);
    assert.equal(validateIPv6Address("f", "::1").length, 0);
    assert.equal(validateIPv6Address("f", "10.0.0.1").length, 1);
  });

  it("validateNonSpecialIP rejects unspecified and link-local, allows loopback", () => {
    const cases: Array<[string, string[]]> = [
      ["192.0.2.1", []],
      ["127.0.0.1", []],
      ["::1", []],
      ["0.0.0.0", ['Invalid value: "0.0.0.0": may not be unspecified (0.0.0.0)']],
      ["::", ['Invalid value: "::": may not be unspecified (::)']],
      [
        "169.254.169.254",
        ['Invalid value: "169.254.169.254": may not be in the link-local range (169.254.0.0/16, fe80::/10)'],
      ],
      [
        "fe80::1",
        ['Invalid value: "fe80::1": may not be in the link-local range (169.254.0.0/16, fe80::/10)'],
      ],
      [
        "224.0.0.251",
        [
          'Invalid value: "224.0.0.251": may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)',
        ],
      ],
      [
        "ff02::fb",
        ['Invalid value: "ff02::fb": may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)'],
      ],
      ["224.0.1.1", []],
      ["nope", ['Invalid value: "nope": must be a valid IP address']],
    ];
    for (const [ip, want] of cases) assert.deepEqual(messages(validateNonSpecialIP("f", ip)), want, ip);
  });
});
