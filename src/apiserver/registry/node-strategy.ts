import { carryOverForUpdate } from "./carry-over-for-update.ts";
import { formatAge } from "./format-age.ts";
import { creationTimestampOf, nameOf } from "./object-meta.ts";
import type { ResourceStrategy } from "./resource-strategy.ts";
import { ageColumn, nameColumn } from "./table-columns.ts";

/** core/v1 Nodes (cluster-scoped): kproxy reads a Node's addresses, labels and deletion state. */
export function nodeStrategy(): ResourceStrategy {
  return {
    info: {
      group: "",
      version: "v1",
      resource: "nodes",
      singularName: "node",
      kind: "Node",
      listKind: "NodeList",
      namespaced: false,
      shortNames: ["no"],
      hasStatus: true,
      categories: [],
    },
    prepareForCreate() {},
    prepareForUpdate(obj, old, subresource) {
      carryOverForUpdate(obj, old, subresource);
    },
    validate: () => [],
    validateUpdate: () => [],
    tableColumns: [nameColumn, ageColumn],
    tableRow(obj, now) {
      return [nameOf(obj), formatAge(creationTimestampOf(obj), now)];
    },
    mergeKeys: {
      "status.addresses": "type",
      "status.conditions": "type",
      "metadata.ownerReferences": "uid",
    },
  };
}
