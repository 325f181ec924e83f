import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { validateAnnotations, validateObjectMeta, validateObjectMetaUpdate } from "./metadata-validation.ts";

function lines(problems: ReadonlyArray<{ field: string; message: string }>): string[] {
  return problems.map((p) => `${p.field}: ${p.message}`);
}

describe("validateObjectMeta", () => {
  it("accepts a generateName prefix ending in '-' and needs no name then", () => {
    const problems = validateObjectMeta(
      { metadata: { generateName: "web-", namespace: "default" } },
      { namespaced: true, nameRule: "dns1035Label" },
    );
    // The server generates the name before validation; without one, name is still required.
    assert.deepEqual(lines(problems), ["metadata.name: Required value: name or generateName is required"]);
    assert.deepEqual(
      lines(
        validateObjectMeta(
          { metadata: { generateName: "web-", name: "web-x1z2", namespace: "default" } },
          { namespaced: true, nameRule: "dns1035Label" },
        ),
      ),
      [],
    );
  });

  it("rejects a negative generation", () => {
    assert.deepEqual(
      lines(
        validateObjectMeta(
          { metadata: { name: "a", generation: -1 } },
          { namespaced: false, nameRule: "dns1123Label" },
        ),
      ),
      ["metadata.generation: Invalid value: -1: must be greater than or equal to 0"],
    );
  });

  it("checks annotation keys and their total size", () => {
    assert.deepEqual(lines(validateAnnotations({ "example.com/Note": "x" }, "metadata.annotations")), []);
    assert.equal(lines(validateAnnotations({ "bad key": "x" }, "metadata.annotations")).length, 1);
    assert.deepEqual(lines(validateAnnotations({ big: "x".repeat(256 * 1024) }, "metadata.annotations")), [
      "metadata.annotations: Too long: may not be more than 262144 bytes",
    ]);
  });
});

describe("validateObjectMetaUpdate", () => {
  it("fixes name, namespace, uid and creationTimestamp; generation never decreases", () => {
    const old = {
      metadata: {
        name: "a",
        namespace: "n",
        uid: "u",
        creationTimestamp: "2024-01-01T00:00:00Z",
        generation: 3,
      },
    };
    assert.deepEqual(lines(validateObjectMetaUpdate(structuredClone(old), old)), []);
    const changed = {
      metadata: {
        name: "b",
        namespace: "m",
        uid: "v",
        creationTimestamp: "2025-01-01T00:00:00Z",
        generation: 2,
      },
    };
    assert.deepEqual(lines(validateObjectMetaUpdate(changed, old)), [
      'metadata.name: Invalid value: "b": field is immutable',
      'metadata.namespace: Invalid value: "m": field is immutable',
      'metadata.uid: Invalid value: "v": field is immutable',
      'metadata.creationTimestamp: Invalid value: "2025-01-01T00:00:00Z": field is immutable',
      "metadata.generation: Invalid value: 2: must not be decremented",
    ]);
  });
});
