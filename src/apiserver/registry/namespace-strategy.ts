import { carryOverForUpdate } from "./carry-over-for-update.ts";
import { formatAge } from "./format-age.ts";
import { asRecord, asString } from "./json-access.ts";
import { creationTimestampOf, nameOf } from "./object-meta.ts";
import type { ResourceStrategy } from "./resource-strategy.ts";
import { ageColumn, nameColumn, tableColumn } from "./table-columns.ts";

/** core/v1 Namespaces (cluster-scoped). */
export function namespaceStrategy(): ResourceStrategy {
  return {
    info: {
      group: "",
      version: "v1",
      resource: "namespaces",
      singularName: "namespace",
      kind: "Namespace",
      listKind: "NamespaceList",
      namespaced: false,
      shortNames: ["ns"],
      hasStatus: false,
      categories: [],
    },
    prepareForCreate() {},
    prepareForUpdate(obj, old, subresource) {
      carryOverForUpdate(obj, old, subresource);
    },
    validate: () => [],
    validateUpdate: () => [],
    tableColumns: [nameColumn, tableColumn("Status", "The status of the namespace"), ageColumn],
    tableRow(obj, now) {
      return [
        nameOf(obj),
        asString(asRecord(obj.status)?.phase) ?? "",
        formatAge(creationTimestampOf(obj), now),
      ];
    },
    mergeKeys: { "metadata.ownerReferences": "uid" },
  };
}
