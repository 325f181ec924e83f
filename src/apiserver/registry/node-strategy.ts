import { carryOverForUpdate } from "./carry-over-for-update.ts";
import { asArray, asRecord, ensureRecord } from "./json-access.ts";
import { nodeTableColumns, nodeTableRow } from "./node-table.ts";
import { validateNode, validateNodeUpdate } from "./node-validation.ts";
import type { KubeObject, ResourceStrategy } from "./resource-strategy.ts";

/**
 * core/v1 Nodes (cluster-scoped): kproxy reads a Node's addresses, labels (zone) and deletion
 * state. As in kube-apiserver, a Node may be created with its status (that is how a kubelet —
 * or `kproxy run` — registers), and afterwards only `/status` updates change it.
 */
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
    prepareForCreate(obj) {
      applyNodeDefaults(obj);
    },
    prepareForUpdate(obj, old, subresource) {
      carryOverForUpdate(obj, old, subresource);
      applyNodeDefaults(obj);
    },
    validate: validateNode,
    validateUpdate: validateNodeUpdate,
    tableColumns: nodeTableColumns,
    tableRow: nodeTableRow,
    mergeKeys: {
      "status.addresses": "type",
      "status.conditions": "type",
      "metadata.ownerReferences": "uid",
    },
    fieldValue(obj, field) {
      return field === "spec.unschedulable" ? String(asRecord(obj.spec)?.unschedulable === true) : undefined;
    },
  };
}

/**
 * Keeps `spec.podCIDR` and `spec.podCIDRs[0]` in step (the v1 API has both), and fills
 * `status.allocatable` from `status.capacity` when it is missing.
 */
export function applyNodeDefaults(obj: KubeObject): void {
  const spec = ensureRecord(obj, "spec");
  const cidrs = asArray(spec.podCIDRs);
  if (typeof spec.podCIDR === "string" && spec.podCIDR !== "" && cidrs.length === 0)
    spec.podCIDRs = [spec.podCIDR];
  else if ((spec.podCIDR === undefined || spec.podCIDR === "") && typeof cidrs[0] === "string")
    spec.podCIDR = cidrs[0];
  const status = asRecord(obj.status);
  if (status !== undefined && status.allocatable === undefined && asRecord(status.capacity) !== undefined) {
    status.allocatable = structuredClone(status.capacity);
  }
}
