import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ApiError } from "./api-error.ts";
import { parseFieldSelector } from "./field-selector.ts";
import { parseLabelSelector, selectorMapMatches } from "./label-selector.ts";

describe("parseLabelSelector", () => {
  const cases: Array<[string, Record<string, string>, boolean]> = [
    ["", {}, true],
    ["app=web", { app: "web" }, true],
    ["app==web", { app: "db" }, false],
    ["app!=web", {}, true],
    ["app!=web", { app: "web" }, false],
    ["tier in (a, b)", { tier: "b" }, true],
    ["tier in (a,b)", {}, false],
    ["tier notin (a,b)", {}, true],
    ["tier notin (a,b)", { tier: "a" }, false],
    ["app", { app: "" }, true],
    ["!app", { app: "x" }, false],
    ["!service.kubernetes.io/service-proxy-name", { other: "x" }, true],
    [
      "!service.kubernetes.io/service-proxy-name,!service.kubernetes.io/headless",
      { "service.kubernetes.io/headless": "" },
      false,
    ],
    ["app=web,tier in (a,b),!x", { app: "web", tier: "a" }, true],
    ["replicas>2", { replicas: "3" }, true],
    ["replicas<2", { replicas: "3" }, false],
  ];
  for (const [selector, labels, expected] of cases) {
    it(`${JSON.stringify(selector)} ${expected ? "matches" : "does not match"} ${JSON.stringify(labels)}`, () => {
      assert.equal(parseLabelSelector(selector).matches(labels), expected);
    });
  }

  it("rejects malformed selectors with 400", () => {
    for (const bad of ["a in b", "=x", "a b", "app=web,(x)"]) {
      assert.throws(
        () => parseLabelSelector(bad),
        (e: unknown) => e instanceof ApiError && e.httpCode === 400,
        bad,
      );
    }
  });
});

describe("selectorMapMatches", () => {
  it("needs every pair and matches nothing when empty", () => {
    assert.equal(selectorMapMatches({ app: "web" }, { app: "web", x: "1" }), true);
    assert.equal(selectorMapMatches({ app: "web", x: "2" }, { app: "web", x: "1" }), false);
    assert.equal(selectorMapMatches({}, { app: "web" }), false);
    assert.equal(selectorMapMatches(undefined, { app: "web" }), false);
  });
});

describe("parseFieldSelector", () => {
  const event = {
    metadata: { name: "e1", namespace: "default" },
    involvedObject: { kind: "Service", name: "web" },
  };

  it("matches metadata and nested fields, with = == and !=", () => {
    assert.equal(parseFieldSelector("metadata.name=e1", undefined).matches(event), true);
    assert.equal(
      parseFieldSelector("involvedObject.kind==Service,involvedObject.name=web", undefined).matches(event),
      true,
    );
    assert.equal(parseFieldSelector("involvedObject.name!=web", undefined).matches(event), false);
    assert.equal(
      parseFieldSelector("spec.nodeName=", undefined).matches(event),
      true,
      "a missing field is empty",
    );
    assert.equal(parseFieldSelector("metadata.name=e1", undefined).exact("metadata.name"), "e1");
  });

  it("rejects malformed selectors with 400", () => {
    assert.throws(
      () => parseFieldSelector("metadata.name", undefined),
      (e: unknown) => e instanceof ApiError && e.httpCode === 400,
    );
  });
});
