import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { namespaceStrategy } from "./namespace-strategy.ts";
import type { KubeObject } from "./resource-strategy.ts";

const strategy = namespaceStrategy();

function lines(problems: ReadonlyArray<{ field: string; message: string }>): string[] {
  return problems.map((p) => `${p.field}: ${p.message}`);
}

describe("namespaceStrategy", () => {
  it("starts Active with the kubernetes finalizer and its name label", () => {
    const obj: KubeObject = {
      metadata: { name: "shop", labels: { team: "a" } },
      status: { phase: "Terminating" },
    };
    strategy.prepareForCreate(obj);
    assert.deepEqual(obj.status, { phase: "Active" });
    assert.deepEqual(obj.spec, { finalizers: ["kubernetes"] });
    assert.deepEqual(obj.metadata?.labels, { team: "a", "kubernetes.io/metadata.name": "shop" });
    assert.deepEqual(lines(strategy.validate(obj)), []);
  });

  it("updates keep status, spec finalizers and the name label", () => {
    const old: KubeObject = {
      metadata: { name: "shop", labels: { "kubernetes.io/metadata.name": "shop" } },
      spec: { finalizers: ["kubernetes"] },
      status: { phase: "Active" },
    };
    const obj: KubeObject = {
      metadata: { name: "shop", labels: { team: "b" } },
      spec: {},
      status: { phase: "Terminating" },
    };
    strategy.prepareForUpdate(obj, old);
    assert.deepEqual(obj.status, { phase: "Active" });
    assert.deepEqual(obj.spec, { finalizers: ["kubernetes"] });
    assert.deepEqual(obj.metadata?.labels, { team: "b", "kubernetes.io/metadata.name": "shop" });
  });

  const cases: Array<{ name: string; obj: KubeObject; want: string[] }> = [
    {
      name: "name must be a DNS-1123 label",
      obj: { metadata: { name: "my.ns" } },
      want: [
        `metadata.name: Invalid value: "my.ns": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')`,
      ],
    },
    {
      name: "name required",
      obj: { metadata: {} },
      want: ["metadata.name: Required value: name or generateName is required"],
    },
    {
      name: "namespaces have no namespace",
      obj: { metadata: { name: "a", namespace: "b" } },
      want: ["metadata.namespace: Forbidden: not allowed on this type"],
    },
  ];
  for (const c of cases) {
    it(c.name, () => assert.deepEqual(lines(strategy.validate(c.obj)), c.want));
  }

  it("shows NAME, STATUS, AGE", () => {
    assert.deepEqual(
      strategy.tableColumns.map((c) => c.name),
      ["Name", "Status", "Age"],
    );
    const row = strategy.tableRow(
      { metadata: { name: "shop", creationTimestamp: "2024-03-01T11:00:00Z" }, status: { phase: "Active" } },
      new Date("2024-03-01T12:00:00Z"),
    );
    assert.deepEqual(row, ["shop", "Active", "60m"]);
  });
});
