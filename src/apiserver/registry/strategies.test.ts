import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { builtinStrategies } from "./strategies.ts";

describe("builtinStrategies", () => {
  it("serves the six resources with kubectl's names", () => {
    const infos = builtinStrategies().map((s) => s.info);
    const summary = infos.map((i) => ({
      path: `${i.group || "core"}/${i.version}/${i.resource}`,
      kind: i.kind,
      listKind: i.listKind,
      singular: i.singularName,
      short: i.shortNames.join(","),
      namespaced: i.namespaced,
      status: i.hasStatus,
      categories: i.categories.join(","),
    }));
    assert.deepEqual(summary, [
      {
        path: "core/v1/namespaces",
        kind: "Namespace",
        listKind: "NamespaceList",
        singular: "namespace",
        short: "ns",
        namespaced: false,
        status: false,
        categories: "",
      },
      {
        path: "core/v1/services",
        kind: "Service",
        listKind: "ServiceList",
        singular: "service",
        short: "svc",
        namespaced: true,
        status: true,
        categories: "all",
      },
      {
        path: "core/v1/pods",
        kind: "Pod",
        listKind: "PodList",
        singular: "pod",
        short: "po",
        namespaced: true,
        status: true,
        categories: "all",
      },
      {
        path: "core/v1/nodes",
        kind: "Node",
        listKind: "NodeList",
        singular: "node",
        short: "no",
        namespaced: false,
        status: true,
        categories: "",
      },
      {
        path: "core/v1/events",
        kind: "Event",
        listKind: "EventList",
        singular: "event",
        short: "ev",
        namespaced: true,
        status: false,
        categories: "",
      },
      {
        path: "discovery.k8s.io/v1/endpointslices",
        kind: "EndpointSlice",
        listKind: "EndpointSliceList",
        singular: "endpointslice",
        short: "",
        namespaced: true,
        status: false,
        categories: "",
      },
    ]);
  });

  it("gives every table as many cells per row as columns", () => {
    const now = new Date("2024-01-01T00:00:00Z");
    for (const strategy of builtinStrategies()) {
      const row = strategy.tableRow(
        { metadata: { name: "x", creationTimestamp: "2024-01-01T00:00:00Z" } },
        now,
      );
      assert.equal(row.length, strategy.tableColumns.length, strategy.info.resource);
    }
  });

  it("declares strategic-merge keys as kubectl expects them", () => {
    const keys = Object.fromEntries(builtinStrategies().map((s) => [s.info.resource, s.mergeKeys]));
    for (const [resource, mergeKeys] of Object.entries(keys)) {
      assert.equal(mergeKeys["metadata.ownerReferences"], "uid", resource);
    }
    assert.equal(keys.services?.["spec.ports"], "port");
    assert.equal(keys.pods?.["spec.containers"], "name");
    assert.equal(keys.pods?.["spec.containers.ports"], "containerPort");
    assert.equal(keys.pods?.["spec.containers.env"], "name");
    assert.equal(keys.pods?.["status.conditions"], "type");
    assert.equal(keys.nodes?.["status.addresses"], "type");
    assert.equal(keys.nodes?.["status.conditions"], "type");
    // EndpointSlice endpoints and ports are atomic lists: replaced whole by a patch.
    assert.deepEqual(Object.keys(keys.endpointslices ?? {}), ["metadata.ownerReferences"]);
  });
});
