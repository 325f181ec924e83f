import { isDeepStrictEqual } from "node:util";
import { carryOverForUpdate } from "./carry-over-for-update.ts";
import { endpointSliceTableColumns, endpointSliceTableRow } from "./endpoint-slice-table.ts";
import { validateEndpointSlice, validateEndpointSliceUpdate } from "./endpoint-slice-validation.ts";
import { asArray, asRecord } from "./json-access.ts";
import { metadataOf } from "./object-meta.ts";
import type { KubeObject, ResourceStrategy } from "./resource-strategy.ts";

/**
 * discovery.k8s.io/v1 EndpointSlices: port defaults (`name: ""`, `protocol: TCP`), generation
 * 1 on create and +1 whenever anything but metadata changes, validation, and
 * `kubectl get endpointslices` columns.
 */
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
    prepareForCreate(obj) {
      applyEndpointSliceDefaults(obj);
      metadataOf(obj).generation = 1;
    },
    prepareForUpdate(obj, old) {
      carryOverForUpdate(obj, old);
      applyEndpointSliceDefaults(obj);
      const meta = metadataOf(obj);
      const oldGeneration = typeof old.metadata?.generation === "number" ? old.metadata.generation : 1;
      meta.generation = contentChanged(obj, old) ? oldGeneration + 1 : oldGeneration;
    },
    validate: validateEndpointSlice,
    validateUpdate: validateEndpointSliceUpdate,
    tableColumns: endpointSliceTableColumns,
    tableRow: endpointSliceTableRow,
    // endpoints and ports are atomic lists in discovery/v1: a strategic merge patch replaces them whole.
    mergeKeys: { "metadata.ownerReferences": "uid" },
  };
}

/** Each port's `name` defaults to "" and `protocol` to TCP, as the v1 API defaults them. */
export function applyEndpointSliceDefaults(obj: KubeObject): void {
  for (const item of asArray(obj.ports)) {
    const port = asRecord(item);
    if (port === undefined) continue;
    if (port.name === undefined || port.name === null) port.name = "";
    if (port.protocol === undefined || port.protocol === null) port.protocol = "TCP";
  }
}

/** True when anything outside metadata differs (what bumps an EndpointSlice's generation). */
function contentChanged(obj: KubeObject, old: KubeObject): boolean {
  const strip = (o: KubeObject): Record<string, unknown> => {
    const { metadata: _metadata, apiVersion: _apiVersion, kind: _kind, ...rest } = o;
    return rest;
  };
  return !isDeepStrictEqual(strip(obj), strip(old));
}
