import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { carryOverForUpdate } from "./carry-over-for-update.ts";
import type { KubeObject } from "./resource-strategy.ts";

function stored(): KubeObject {
  return {
    metadata: {
      name: "a",
      uid: "u1",
      resourceVersion: "5",
      creationTimestamp: "2024-01-01T00:00:00Z",
      generation: 2,
      labels: { x: "1" },
    },
    spec: { v: 1 },
    status: { s: "old" },
  };
}

describe("carryOverForUpdate", () => {
  it("main update: status and system metadata come from the stored object", () => {
    const obj: KubeObject = {
      metadata: { name: "a", resourceVersion: "5", generation: 9, labels: { x: "2" } },
      spec: { v: 2 },
      status: { s: "new" },
    };
    carryOverForUpdate(obj, stored());
    assert.deepEqual(obj, {
      metadata: {
        name: "a",
        resourceVersion: "5",
        generation: 2,
        labels: { x: "2" },
        uid: "u1",
        creationTimestamp: "2024-01-01T00:00:00Z",
      },
      spec: { v: 2 },
      status: { s: "old" },
    });
  });

  it("main update of an object without status removes a client-sent status", () => {
    const old = stored();
    delete old.status;
    const obj: KubeObject = { metadata: { name: "a" }, status: { s: "new" } };
    carryOverForUpdate(obj, old);
    assert.equal("status" in obj, false);
  });

  it("/status update: only status (and the client's resourceVersion) comes from the request", () => {
    const obj: KubeObject = {
      metadata: { name: "a", resourceVersion: "4", labels: { x: "2" } },
      spec: { v: 2 },
      status: { s: "new" },
    };
    carryOverForUpdate(obj, stored(), "status");
    assert.deepEqual(obj, {
      metadata: {
        name: "a",
        uid: "u1",
        resourceVersion: "4",
        creationTimestamp: "2024-01-01T00:00:00Z",
        generation: 2,
        labels: { x: "1" },
      },
      spec: { v: 1 },
      status: { s: "new" },
    });
  });

  it("does not share structure with the stored object", () => {
    const old = stored();
    const obj: KubeObject = { metadata: { name: "a" } };
    carryOverForUpdate(obj, old, "status");
    (obj.spec as Record<string, unknown>).v = 99;
    assert.deepEqual(old.spec, { v: 1 });
  });
});
