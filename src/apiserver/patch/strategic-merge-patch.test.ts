import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { applyStrategicMergePatch } from "./strategic-merge-patch.ts";

const keys = { "spec.ports": "port", "spec.containers": "name", "spec.containers.ports": "containerPort" };

describe("applyStrategicMergePatch", () => {
  const svc = {
    metadata: { name: "web", labels: { a: "1", b: "2" } },
    spec: {
      selector: { app: "web" },
      ports: [
        { name: "http", port: 80, targetPort: 8080 },
        { name: "https", port: 443 },
      ],
    },
  };

  it("merges maps and deletes keys set to null", () => {
    const out = applyStrategicMergePatch(
      svc,
      { metadata: { labels: { a: null, c: "3" } } },
      keys,
    ) as typeof svc;
    assert.deepEqual(out.metadata.labels, { b: "2", c: "3" });
    assert.deepEqual(svc.metadata.labels, { a: "1", b: "2" }, "the original is untouched");
  });

  it("merges list items by their merge key and appends new ones", () => {
    const out = applyStrategicMergePatch(
      svc,
      {
        spec: {
          ports: [
            { port: 80, targetPort: 9090 },
            { port: 8443, name: "alt" },
          ],
        },
      },
      keys,
    );
    assert.deepEqual((out as typeof svc).spec.ports, [
      { name: "http", port: 80, targetPort: 9090 },
      { name: "https", port: 443 },
      { port: 8443, name: "alt" },
    ]);
  });

  it("replaces lists without a merge key", () => {
    const out = applyStrategicMergePatch(
      { spec: { externalIPs: ["1.1.1.1", "2.2.2.2"] } },
      { spec: { externalIPs: ["3.3.3.3"] } },
      keys,
    );
    assert.deepEqual(out, { spec: { externalIPs: ["3.3.3.3"] } });
  });

  it("honours $patch: delete and replace", () => {
    const deleted = applyStrategicMergePatch(
      svc,
      { spec: { ports: [{ port: 443, $patch: "delete" }] } },
      keys,
    ) as typeof svc;
    assert.deepEqual(
      deleted.spec.ports.map((p) => p.port),
      [80],
    );
    const replacedList = applyStrategicMergePatch(
      svc,
      { spec: { ports: [{ port: 1 }, { $patch: "replace" }] } },
      keys,
    ) as typeof svc;
    assert.deepEqual(replacedList.spec.ports, [{ port: 1 }]);
    const replacedMap = applyStrategicMergePatch(
      svc,
      { spec: { selector: { $patch: "replace", tier: "x" } } },
      keys,
    ) as typeof svc;
    assert.deepEqual(replacedMap.spec.selector, { tier: "x" });
    const gone = applyStrategicMergePatch(
      svc,
      { spec: { selector: { $patch: "delete" } } },
      keys,
    ) as typeof svc;
    assert.equal(gone.spec.selector, undefined);
  });

  it("orders a merged list as $setElementOrder says, as kubectl apply sends it", () => {
    const out = applyStrategicMergePatch(
      svc,
      {
        spec: {
          $setElementOrder_ports: undefined,
          "$setElementOrder/ports": [{ port: 443 }, { port: 80 }],
          ports: [{ port: 80, name: "web" }],
        },
      },
      keys,
    ) as typeof svc;
    assert.deepEqual(
      out.spec.ports.map((p) => `${p.name}:${p.port}`),
      ["https:443", "web:80"],
    );
  });

  it("merges nested lists by their own keys", () => {
    const pod = { spec: { containers: [{ name: "a", ports: [{ containerPort: 80, name: "http" }] }] } };
    const out = applyStrategicMergePatch(
      pod,
      { spec: { containers: [{ name: "a", ports: [{ containerPort: 80, protocol: "TCP" }] }] } },
      keys,
    );
    assert.deepEqual(out, {
      spec: { containers: [{ name: "a", ports: [{ containerPort: 80, name: "http", protocol: "TCP" }] }] },
    });
  });

  it("removes values named by $deleteFromPrimitiveList", () => {
    const out = applyStrategicMergePatch(
      { metadata: { finalizers: ["a", "b", "c"] } },
      { metadata: { "$deleteFromPrimitiveList/finalizers": ["b"] } },
      keys,
    );
    assert.deepEqual(out, { metadata: { finalizers: ["a", "c"] } });
  });

  it("rejects a patch that is not an object", () => {
    assert.throws(() => applyStrategicMergePatch(svc, [1, 2], keys), /must be a JSON object/);
  });
});
