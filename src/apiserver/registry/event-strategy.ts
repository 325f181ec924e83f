import { formatAge } from "./format-age.ts";
import { creationTimestampOf, nameOf } from "./object-meta.ts";
import type { ResourceStrategy } from "./resource-strategy.ts";
import { ageColumn, nameColumn } from "./table-columns.ts";

/** core/v1 Events (the list may be empty; kubectl describe asks for them). */
export function eventStrategy(): ResourceStrategy {
  return {
    info: {
      group: "",
      version: "v1",
      resource: "events",
      singularName: "event",
      kind: "Event",
      listKind: "EventList",
      namespaced: true,
      shortNames: ["ev"],
      hasStatus: false,
      categories: [],
    },
    prepareForCreate() {},
    prepareForUpdate() {},
    validate: () => [],
    validateUpdate: () => [],
    tableColumns: [nameColumn, ageColumn],
    tableRow(obj, now) {
      return [nameOf(obj), formatAge(creationTimestampOf(obj), now)];
    },
    mergeKeys: { "metadata.ownerReferences": "uid" },
  };
}
