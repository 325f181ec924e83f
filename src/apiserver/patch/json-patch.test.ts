import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ApiError } from "../http/api-error.ts";
import { applyJsonMergePatch } from "./json-merge-patch.ts";
import { applyJsonPatch } from "./json-patch.ts";

describe("applyJsonPatch (RFC 6902)", () => {
  const doc = { a: { b: [1, 2, 3] }, "x/y": "slash", "m~n": "tilde" };

  it("adds, removes, replaces, moves, copies and tests", () => {
    const out = applyJsonPatch(doc, [
      { op: "add", path: "/a/b/1", value: 9 },
      { op: "add", path: "/a/b/-", value: 4 },
      { op: "remove", path: "/a/b/0" },
      { op: "replace", path: "/x~1y", value: "replaced" },
      { op: "copy", from: "/m~0n", path: "/copy" },
      { op: "move", from: "/m~0n", path: "/moved" },
      { op: "test", path: "/moved", value: "tilde" },
    ]);
    assert.deepEqual(out, { a: { b: [9, 2, 3, 4] }, "x/y": "replaced", copy: "tilde", moved: "tilde" });
    assert.deepEqual(doc.a.b, [1, 2, 3], "the input is untouched");
  });

  it("fails with 422 on a failed test and 400 on a missing path", () => {
    assert.throws(
      () => applyJsonPatch(doc, [{ op: "test", path: "/a/b/0", value: 7 }]),
      (e: unknown) => e instanceof ApiError && e.httpCode === 422,
    );
    assert.throws(
      () => applyJsonPatch(doc, [{ op: "replace", path: "/nope", value: 1 }]),
      (e: unknown) => e instanceof ApiError && e.httpCode === 400 && /does not exist/.test(e.message),
    );
    assert.throws(() => applyJsonPatch(doc, { op: "add" }), /must be a JSON array/);
    assert.throws(() => applyJsonPatch(doc, [{ op: "frob", path: "/a" }]), /unknown op/);
    assert.throws(() => applyJsonPatch(doc, [{ op: "add", path: "/a/b/7", value: 1 }]), /out of range/);
  });
});

describe("applyJsonMergePatch (RFC 7386)", () => {
  it("merges objects, deletes nulls and replaces arrays", () => {
    const out = applyJsonMergePatch({ a: { b: 1, c: 2 }, l: [1, 2] }, { a: { b: null, d: 3 }, l: [3] });
    assert.deepEqual(out, { a: { c: 2, d: 3 }, l: [3] });
  });
});
