import { carryOverForUpdate } from "./carry-over-for-update.ts";
import type { ResourceStrategy } from "./resource-strategy.ts";
import { serviceTableColumns, serviceTableRow } from "./service-table.ts";

/** core/v1 Services: defaulting, validation, `/status`, and `kubectl get svc` columns. */
export function serviceStrategy(): ResourceStrategy {
  return {
    info: {
      group: "",
      version: "v1",
      resource: "services",
      singularName: "service",
      kind: "Service",
      listKind: "ServiceList",
      namespaced: true,
      shortNames: ["svc"],
      hasStatus: true,
      categories: ["all"],
    },
    prepareForCreate() {},
    prepareForUpdate(obj, old, subresource) {
      carryOverForUpdate(obj, old, subresource);
    },
    validate: () => [],
    validateUpdate: () => [],
    tableColumns: serviceTableColumns,
    tableRow: serviceTableRow,
    mergeKeys: { "spec.ports": "port", "metadata.ownerReferences": "uid" },
    fieldValue(obj, field) {
      if (field === "spec.type") {
        const spec = obj.spec as { type?: unknown } | undefined;
        return typeof spec?.type === "string" ? spec.type : undefined;
      }
      return undefined;
    },
  };
}
