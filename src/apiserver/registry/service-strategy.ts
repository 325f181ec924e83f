import { carryOverForUpdate } from "./carry-over-for-update.ts";
import { asString } from "./json-access.ts";
import type { ResourceStrategy } from "./resource-strategy.ts";
import { applyServiceDefaults, defaultServiceIPFamilyPolicy } from "./service-defaults.ts";
import { serviceSpec } from "./service-spec.ts";
import { serviceTableColumns, serviceTableRow } from "./service-table.ts";
import { normalizeClusterIPsOnCreate, prepareServiceUpdate } from "./service-update-preparation.ts";
import { validateServiceUpdate } from "./service-update-validation.ts";
import { validateService } from "./service-validation.ts";

/**
 * core/v1 Services: kube-apiserver's defaulting, validation and update rules, the `/status`
 * subresource, and `kubectl get svc` columns. The server allocates cluster IPs, IP families,
 * node ports, the health-check node port and load-balancer ingress between `prepareFor*` and
 * `validate*`.
 */
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
    prepareForCreate(obj) {
      applyServiceDefaults(obj);
      // A new Service has no load balancer yet: status is the server's to write.
      obj.status = { loadBalancer: {} };
      normalizeClusterIPsOnCreate(obj);
      defaultServiceIPFamilyPolicy(obj);
    },
    prepareForUpdate(obj, old, subresource) {
      carryOverForUpdate(obj, old, subresource);
      applyServiceDefaults(obj);
      if (subresource === "status") return;
      prepareServiceUpdate(obj, old);
      defaultServiceIPFamilyPolicy(obj);
    },
    validate: validateService,
    validateUpdate: validateServiceUpdate,
    tableColumns: serviceTableColumns,
    tableRow: serviceTableRow,
    mergeKeys: { "spec.ports": "port", "metadata.ownerReferences": "uid" },
    fieldValue(obj, field) {
      if (field === "spec.type") return asString(serviceSpec(obj).type) ?? "";
      if (field === "spec.clusterIP") return asString(serviceSpec(obj).clusterIP) ?? "";
      return undefined;
    },
  };
}
