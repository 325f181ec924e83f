import { carryOverForUpdate } from "./carry-over-for-update.ts";
import { formatAge } from "./format-age.ts";
import { creationTimestampOf, nameOf } from "./object-meta.ts";
import type { ResourceStrategy } from "./resource-strategy.ts";
import { ageColumn, nameColumn } from "./table-columns.ts";

/** core/v1 Pods: the EndpointSlice controller's input; status only through `/status`. */
export function podStrategy(): ResourceStrategy {
  return {
    info: {
      group: "",
      version: "v1",
      resource: "pods",
      singularName: "pod",
      kind: "Pod",
      listKind: "PodList",
      namespaced: true,
      shortNames: ["po"],
      hasStatus: true,
      categories: ["all"],
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
      "spec.containers": "name",
      "spec.containers.ports": "containerPort",
      "spec.containers.env": "name",
      "status.conditions": "type",
      "metadata.ownerReferences": "uid",
    },
  };
}
