import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  isDNS1035Label,
  isDNS1123Label,
  isDNS1123Subdomain,
  isQualifiedName,
  isValidLabelValue,
  isValidPortName,
  isValidPortNum,
} from "./name-rules.ts";

/** `[value, valid?]` tables: each rule accepts exactly the values marked true. */
function table(rule: (v: string) => string[], cases: Array<[string, boolean]>): void {
  for (const [value, valid] of cases) {
    it(`${JSON.stringify(value)} is ${valid ? "valid" : "invalid"}`, () => {
      assert.equal(rule(value).length === 0, valid, rule(value).join("; "));
    });
  }
}

describe("isDNS1123Label", () =>
  table(isDNS1123Label, [
    ["a", true],
    ["0", true],
    ["my-name", true],
    ["123-abc", true],
    ["a".repeat(63), true],
    ["a".repeat(64), false],
    ["", false],
    ["-a", false],
    ["a-", false],
    ["A", false],
    ["a.b", false],
    ["a_b", false],
  ]));

describe("isDNS1123Subdomain", () =>
  table(isDNS1123Subdomain, [
    ["example.com", true],
    ["a", true],
    ["a-b.c-d", true],
    [`${"a".repeat(63)}.${"b".repeat(63)}.${"c".repeat(63)}.${"d".repeat(61)}`, true],
    [`${"a".repeat(63)}.${"b".repeat(63)}.${"c".repeat(63)}.${"d".repeat(62)}`, false],
    ["a..b", false],
    [".a", false],
    ["a.", false],
    ["Example.com", false],
  ]));

describe("isDNS1035Label", () =>
  table(isDNS1035Label, [
    ["web", true],
    ["abc-123", true],
    ["1web", false],
    ["web-", false],
    ["Web", false],
  ]));

describe("isQualifiedName", () =>
  table(isQualifiedName, [
    ["app", true],
    ["MyName", true],
    ["my.name_x-1", true],
    ["example.com/MyName", true],
    ["app.kubernetes.io/name", true],
    ["/name", false],
    ["example.com/", false],
    ["Example.com/name", false],
    ["a/b/c", false],
    ["-app", false],
    ["a".repeat(64), false],
  ]));

describe("isValidLabelValue", () =>
  table(isValidLabelValue, [
    ["", true],
    ["MyValue", true],
    ["my_value.1", true],
    ["a".repeat(63), true],
    ["a".repeat(64), false],
    ["-v", false],
    ["has space", false],
  ]));

describe("isValidPortName (IANA_SVC_NAME)", () =>
  table(isValidPortName, [
    ["http", true],
    ["h2c", true],
    ["my-port-15chars", true],
    ["my-port-16-chars", false],
    ["8080", false],
    ["HTTP", false],
    ["a--b", false],
    ["-a", false],
    ["a-", false],
    ["a_b", false],
    ["", false],
  ]));

describe("isValidPortNum", () => {
  for (const [port, valid] of [
    [0, false],
    [1, true],
    [65535, true],
    [65536, false],
    [-1, false],
    [80.5, false],
  ] as const) {
    it(`${port} is ${valid ? "valid" : "invalid"}`, () =>
      assert.equal(isValidPortNum(port).length === 0, valid));
  }
  it("words the range as upstream does", () =>
    assert.deepEqual(isValidPortNum(0), ["must be between 1 and 65535, inclusive"]));
});
