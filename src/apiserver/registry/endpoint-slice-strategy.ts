import { carryOverForUpdate } from "./carry-over-for-update.ts";
import { endpointSliceTableColumns, endpointSliceTableRow } from "./endpoint-slice-table.ts";
import type { ResourceStrategy } from "./resource-strategy.ts";

/** discovery.k8s.io/v1 EndpointSlices: validation and `kubectl get endpointslices` columns. */
export function endpointSliceStrategy(): ResourceStrategy {
  return {
    info: {
      group: "discovery.k8s.io",
      version: "v1",
      resource: "endpointslices",
      singularName: "endpointslice",
      kind: "EndpointSlice",
      listKind: "EndpointSliceList",
      namespaced: true,
      shortNames: [],
      hasStatus: false,
      categories: [],
    },
    prepareForCreate() {},
    prepareForUpdate(obj, old) {
      carryOverForUpdate(obj, old);
    },
    validate: () => [],
    validateUpdate: () => [],
    tableColumns: endpointSliceTableColumns,
    tableRow: endpointSliceTableRow,
    // endpoints and ports are atomic lists in discovery/v1: a patch replaces them whole.
    mergeKeys: { "metadata.ownerReferences": "uid" },
  };
}
