import { carryOverForUpdate } from "./carry-over-for-update.ts";
import { asArray, asRecord, asString } from "./json-access.ts";
import { applyPodDefaults, initialPodStatus, syncPodIPs } from "./pod-defaults.ts";
import { podTableColumns, podTableRow } from "./pod-table.ts";
import { validatePod, validatePodUpdate } from "./pod-validation.ts";
import type { ResourceStrategy } from "./resource-strategy.ts";

/**
 * core/v1 Pods, the EndpointSlice controller's input. As in kube-apiserver, a new Pod starts
 * `Pending` whatever status it was sent with, and only `/status` updates change status (whoever
 * plays the kubelet writes ready conditions and pod IPs there).
 */
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
    prepareForCreate(obj) {
      applyPodDefaults(obj);
      obj.status = initialPodStatus(obj);
    },
    prepareForUpdate(obj, old, subresource) {
      carryOverForUpdate(obj, old, subresource);
      applyPodDefaults(obj);
      syncPodIPs(obj);
    },
    validate: validatePod,
    validateUpdate: validatePodUpdate,
    tableColumns: podTableColumns,
    tableRow: podTableRow,
    mergeKeys: {
      "spec.containers": "name",
      "spec.initContainers": "name",
      "spec.containers.ports": "containerPort",
      "spec.containers.env": "name",
      "spec.initContainers.ports": "containerPort",
      "spec.initContainers.env": "name",
      "status.conditions": "type",
      "status.podIPs": "ip",
      "metadata.ownerReferences": "uid",
    },
    fieldValue(obj, field) {
      const spec = asRecord(obj.spec) ?? {};
      const status = asRecord(obj.status) ?? {};
      switch (field) {
        case "spec.nodeName":
        case "spec.restartPolicy":
        case "spec.schedulerName":
        case "spec.serviceAccountName":
          return asString(spec[field.slice("spec.".length)]) ?? "";
        case "spec.hostNetwork":
          return String(spec.hostNetwork === true);
        case "status.phase":
        case "status.nominatedNodeName":
          return asString(status[field.slice("status.".length)]) ?? "";
        case "status.podIP":
          return asString(asRecord(asArray(status.podIPs)[0])?.ip) ?? asString(status.podIP) ?? "";
        default:
          return undefined;
      }
    },
  };
}
