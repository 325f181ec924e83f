import { carryOverForUpdate } from "./carry-over-for-update.ts";
import { formatAge } from "./format-age.ts";
import { asArray, asRecord, asString, ensureRecord } from "./json-access.ts";
import { validateObjectMeta, validateObjectMetaUpdate } from "./metadata-validation.ts";
import { creationTimestampOf, metadataOf, nameOf } from "./object-meta.ts";
import type { KubeObject, ResourceStrategy } from "./resource-strategy.ts";
import { ageColumn, nameColumn, tableColumn } from "./table-columns.ts";

/** The label every Namespace carries with its own name, so that selectors can pick namespaces by name. */
export const labelMetadataName = "kubernetes.io/metadata.name";

/**
 * core/v1 Namespaces (cluster-scoped): names are DNS-1123 labels; a new Namespace is `Active`
 * with the `kubernetes` finalizer in its spec and its name label, all kept by the server.
 */
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
    prepareForCreate(obj) {
      obj.status = { phase: "Active" };
      const spec = ensureRecord(obj, "spec");
      const finalizers = asArray(spec.finalizers);
      spec.finalizers = finalizers.includes("kubernetes") ? finalizers : [...finalizers, "kubernetes"];
      labelWithName(obj);
    },
    prepareForUpdate(obj, old, subresource) {
      carryOverForUpdate(obj, old, subresource);
      // Spec finalizers change only through the finalize subresource, which kproxy does not serve.
      const oldFinalizers = asRecord(old.spec)?.finalizers;
      if (oldFinalizers !== undefined) ensureRecord(obj, "spec").finalizers = structuredClone(oldFinalizers);
      labelWithName(obj);
    },
    validate: (obj) => validateObjectMeta(obj, { namespaced: false, nameRule: "dns1123Label" }),
    validateUpdate: (obj, old) => [
      ...validateObjectMetaUpdate(obj, old),
      ...validateObjectMeta(obj, { namespaced: false, nameRule: "dns1123Label" }),
    ],
    tableColumns: [nameColumn, tableColumn("Status", "The status of the namespace"), ageColumn],
    tableRow(obj, now) {
      return [
        nameOf(obj),
        asString(asRecord(obj.status)?.phase) ?? "",
        formatAge(creationTimestampOf(obj), now),
      ];
    },
    mergeKeys: { "metadata.ownerReferences": "uid" },
    fieldValue(obj, field) {
      return field === "status.phase" ? (asString(asRecord(obj.status)?.phase) ?? "") : undefined;
    },
  };
}

function labelWithName(obj: KubeObject): void {
  const name = nameOf(obj);
  if (name === "") return;
  const meta = metadataOf(obj);
  meta.labels = { ...(meta.labels ?? {}), [labelMetadataName]: name };
}
